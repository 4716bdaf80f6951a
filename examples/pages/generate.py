#!/usr/bin/env python3
"""Writes the sample pages that examples/offline.toml reads (run from this folder)."""

tw_titles = ["英特爾獲美資挹注仍難提振信評,惠譽:資金助流動性但競爭力難解", "台積電法說會前夕外資連三買,市值再創新高",
             "聯發科新一代旗艦晶片量產,法人上修全年營收", "鴻海8月營收年增12%,AI伺服器出貨暢旺",
             "央行理監事會維持利率不變,房市信用管制再加碼", "新台幣盤中升破30元,出口商拋匯",
             "美債殖利率走低,壽險業避險成本下降", "航運股集體走揚,長榮、陽明漲逾3%",
             "金管會擬放寬ETF投資限制,投信業者樂觀", "半導體設備股受惠先進封裝擴產,訂單能見度至明年"]
rows = []
for i, t in enumerate(tw_titles):
    hh, mm = 15 - i // 2, 48 - (i * 7) % 48
    rows.append(f'<tr><td class="date">2025/8/28 {hh:02d}:{mm:02d}</td><td class="title">'
                f'<a href="https://news.example.com.tw/news/{20250828100 + i}.html">{t}</a></td></tr>')
big5 = f"""<!DOCTYPE html>
<html lang="zh-Hant"><head><meta http-equiv="Content-Type" content="text/html; charset=big5">
<title>國際財經 - 範例快報</title>
<script>var _gaq = _gaq || []; _gaq.push(['_trackPageview']);</script>
</head><body>
<div id="nav"><a href="https://news.example.com.tw/">首頁</a> | <a href="https://news.example.com.tw/tw">台股</a> | <a href="https://news.example.com.tw/intl">國際</a></div>
<div id="main"><h1>國際財經</h1>
<table class="news-list">
<tr><th>時間</th><th>標題</th></tr>
{chr(10).join(rows)}
</table>
<div class="pager"><a href="https://news.example.com.tw/intl?page=2">下一頁</a></div></div>
<div id="side"><h3>熱門新聞</h3><ol><li><a href="https://news.example.com.tw/news/hot1.html">輝達財報亮眼 盤後大漲</a></li><li><a href="https://news.example.com.tw/news/hot2.html">油價連三跌</a></li></ol></div>
<div id="footer">範例快報 版權所有 <a href="https://news.example.com.tw/about">關於我們</a></div>
</body></html>"""
open("tw-intl-big5.html", "wb").write(big5.encode("big5hkscs"))

en_titles = ["Fed officials signal patience as inflation cools", "Nvidia shares slip after record quarter as guidance disappoints",
             "Oil falls for a third day on supply worries", "Treasury yields edge lower ahead of jobs report",
             "Dollar steadies against yen after BOJ comments", "Apple supplier shares rally on iPhone demand",
             "Bank stocks climb as stress test results loom", "Gold hovers near record as rate-cut bets grow"]
cards = []
for i, t in enumerate(en_titles):
    h = 15 - i
    ampm = "PM" if h >= 12 else "AM"
    h12 = h - 12 if h > 12 else h
    cards.append(f'<article class="story" data-id="{i}"><h3><a href="https://markets.example.com/2025/08/28/story-{i}">{t}</a></h3>'
                 f'<p class="summary">Markets wrap.</p><span class="stamp">Aug 28, 2025 {h12}:{(i * 11) % 60:02d} {ampm} ET</span></article>')
en = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Markets | Example Wire</title>
<script type="application/ld+json">{{"@type":"WebPage"}}</script></head><body>
<header><nav><a href="https://markets.example.com/">Home</a> <a href="https://markets.example.com/world">World</a></nav></header>
<main><h1>Markets</h1>{''.join(cards)}<a class="more" href="https://markets.example.com/markets?page=2">More</a></main>
<aside><h2>Most read</h2><ul><li><a href="https://markets.example.com/popular/1">Why the yen matters</a></li></ul></aside>
</body></html>"""
open("markets-en.html", "w", encoding="utf-8").write(en)

cn_titles = ["贵州茅台半年报净利润同比增长9%", "央行开展5000亿元MLF操作", "沪指震荡收涨 券商板块走强",
             "新能源车企8月交付量创新高", "人民币中间价上调112个基点", "A股两融余额突破2万亿元"]
lis = []
for i, t in enumerate(cn_titles):
    lis.append(f'<li><p class="title"><a href="https://finance.example.cn/a/202508280{i}.html">{t}</a></p>'
               f'<p class="time">08月28日 {14 - i:02d}:{(i * 13) % 60:02d}</p></li>')
cn = f"""<!DOCTYPE html><html><head><meta charset="gb2312"><title>财经导读_示例网</title></head><body>
<div class="nav"><a href="https://finance.example.cn/">财经首页</a> <a href="https://finance.example.cn/stock">股票</a></div>
<ul id="newsListContent">{''.join(lis)}</ul>
<div class="rank"><h3>排行</h3><a href="https://finance.example.cn/hot/1.html">热门：降准预期升温</a></div>
</body></html>"""
open("finance-cn-gbk.html", "wb").write(cn.encode("gbk"))
