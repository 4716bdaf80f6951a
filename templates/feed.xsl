<?xml version="1.0" encoding="UTF-8"?>
<!-- Shows an RSS or Atom file from {{ site.title }} as a readable page in a browser. -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="UTF-8" indent="yes" doctype-system="about:legacy-compat"/>

  <xsl:template match="/">
    <xsl:variable name="title" select="rss/channel/title | atom:feed/atom:title"/>
    <xsl:variable name="self" select="rss/channel/atom:link[@rel='self']/@href | atom:feed/atom:link[@rel='self']/@href"/>
    <xsl:variable name="source" select="rss/channel/link | atom:feed/atom:link[@rel='alternate']/@href"/>
    <html lang="{rss/channel/language | atom:feed/@xml:lang}">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$title"/></title>
        <link rel="stylesheet" href="dateline.css"/>
      </head>
      <body class="feedview">
        <header class="site">
          <h1><xsl:value-of select="$title"/></h1>
          <p>From <a href="{$source}"><xsl:value-of select="$source"/></a> · <a href="index.html">all feeds</a></p>
        </header>
        <main>
          <p class="hint">This is a news feed. To follow it, copy this URL into your feed reader:<br/>
            <code id="feed-url"><xsl:value-of select="$self"/></code></p>
          <ol class="latest">
            <xsl:for-each select="rss/channel/item">
              <li>
                <time><xsl:value-of select="pubDate"/></time>
                <a href="{link}"><xsl:value-of select="title"/></a>
              </li>
            </xsl:for-each>
            <xsl:for-each select="atom:feed/atom:entry">
              <li>
                <time datetime="{atom:published}"><xsl:value-of select="translate(substring(atom:published, 1, 16), 'T', ' ')"/></time>
                <a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a>
              </li>
            </xsl:for-each>
          </ol>
        </main>
        <footer class="site"><p>{{ site.generator }}</p></footer>
      </body>
    </html>
  </xsl:template>
</xsl:stylesheet>
