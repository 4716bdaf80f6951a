//! Synthetic portal pages for the benchmarks: realistic shape and weight (navigation, sidebars,
//! scripts, JSON blobs, 40 dated CJK headlines), deterministic content.

#![allow(dead_code)] // each bench uses its share

const HEADLINES: &[&str] = &[
    "台積電法說會前夕外資連三買 市值再創新高",
    "鴻海8月營收年增12% AI伺服器出貨暢旺",
    "聯發科新一代旗艦晶片量產 法人上修全年營收",
    "央行理監事會維持利率不變 房市信用管制再加碼",
    "新台幣盤中升破30元 出口商拋匯",
    "美債殖利率走低 壽險業避險成本下降",
    "航運股集體走揚 長榮、陽明漲逾3%",
    "金管會擬放寬ETF投資限制 投信業者樂觀",
    "半導體設備股受惠先進封裝擴產 訂單能見度至明年",
    "英特爾獲美資挹注仍難提振信評 惠譽:資金助流動性但競爭力難解",
];

const FILLER: &str = "市場人士指出，在全球供應鏈重組與人工智慧需求帶動下，相關族群營運前景持續受到法人關注，惟匯率波動與地緣政治風險仍待觀察。";

/// One listing page of about `target_kb` kilobytes with `items` dated headlines; `seed` varies
/// the links and times so that pages differ.
pub fn page(seed: usize, items: usize, target_kb: usize) -> String {
    let mut html = String::with_capacity(target_kb * 1024 + 4096);
    html.push_str("<!DOCTYPE html><html lang=\"zh-Hant\"><head><meta charset=\"utf-8\"><title>即時新聞 - 財經網</title>");
    html.push_str("<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}gtag('js',new Date());");
    for i in 0..200 {
        html.push_str(&format!("var cfg{i}={{\"slot\":\"ad-{i}\",\"sizes\":[[300,250],[728,90]],\"targeting\":{{\"section\":\"news\",\"pos\":{i}}}}};"));
    }
    html.push_str("</script><script type=\"application/json\" id=\"state\">{\"user\":null,\"ab\":[1,2,3],\"menu\":[");
    for i in 0..150 {
        html.push_str(&format!(
            "{{\"id\":{i},\"name\":\"選單{i}\",\"href\":\"/cat/{i}\"}},"
        ));
    }
    html.push_str(
        "{}]}</script><style>.nav a{margin:0 4px}.news li{padding:4px 0}</style></head><body>",
    );
    html.push_str("<header><nav class=\"nav\">");
    for i in 0..80 {
        html.push_str(&format!("<a href=\"/cat/{i}\">分類{i}</a>"));
    }
    html.push_str(
        "</nav></header><div class=\"wrap\"><main id=\"main\"><h1>即時新聞</h1><ul class=\"news\">",
    );
    for i in 0..items {
        let minute = (59 - (i * 7 + seed) % 60) as u32;
        let hour = 15 - (i / 4) as u32 % 12;
        let title = HEADLINES[(i + seed) % HEADLINES.len()];
        html.push_str(&format!(
            "<li class=\"item\"><span class=\"time\">2025/08/28 {hour:02}:{minute:02}</span><a class=\"title\" href=\"/news/{seed}/{i}\">{title}（{seed}-{i}）</a><p class=\"summary\">{}</p></li>",
            &FILLER[..FILLER.len().min(90)]
        ));
    }
    html.push_str("</ul><div class=\"pager\"><a href=\"?page=2\">下一頁</a></div></main><aside><h2>熱門排行</h2><ol class=\"rank\">");
    for i in 0..30 {
        html.push_str(&format!(
            "<li><a href=\"/hot/{i}\">{}</a><span class=\"views\">{} 次瀏覽</span></li>",
            HEADLINES[i % HEADLINES.len()],
            1000 + i * 37
        ));
    }
    html.push_str("</ol></aside></div><footer>");
    for i in 0..60 {
        html.push_str(&format!("<a href=\"/about/{i}\">關於{i}</a> "));
    }
    // Article teasers and legal text, as real pages carry, up to the target weight.
    while html.len() < target_kb * 1024 {
        html.push_str("<p class=\"legal\">");
        html.push_str(FILLER);
        html.push_str("</p>");
    }
    html.push_str("</footer></body></html>");
    html
}
