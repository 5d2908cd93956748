using System.Net;
using System.Text;

namespace Cleanroom.Gateway.Routes.PyPi;

/// <summary>
/// Rewrites the links of a PEP 503 HTML page: the <c>href</c> of every <c>&lt;a&gt;</c> (every one, should a tag
/// carry several) goes through <see cref="SimpleLinks"/>, and <c>&lt;base&gt;</c> tags are removed (the first one's
/// target becomes the base the links are resolved against here). Everything else is copied as it came. Values are
/// entity-decoded before mapping and written back HTML-escaped in double quotes, so nothing an upstream writes in a
/// link can break out of the attribute. An unusable link becomes an empty <c>href</c>, which clients skip.
/// </summary>
internal static class SimpleHtmlRewriter
{
    /// <summary>The rewritten page (UTF-8; the simple API is UTF-8 text).</summary>
    public static string Rewrite(string html, SimpleLinks links)
    {
        var output = new StringBuilder(html.Length + (html.Length / 8));
        var copied = 0;
        var i = 0;
        while (i < html.Length)
        {
            var open = html.IndexOf('<', i);
            if (open < 0)
            {
                break;
            }

            if (string.CompareOrdinal(html, open, "<!--", 0, 4) == 0)
            {
                var close = html.IndexOf("-->", open + 4, StringComparison.Ordinal);
                i = close < 0 ? html.Length : close + 3;
                continue;
            }

            var nameEnd = open + 1;
            while (nameEnd < html.Length && char.IsAsciiLetterOrDigit(html[nameEnd]))
            {
                nameEnd++;
            }

            var name = html[(open + 1)..nameEnd];
            var isAnchor = name.Equals("a", StringComparison.OrdinalIgnoreCase);
            var isBase = name.Equals("base", StringComparison.OrdinalIgnoreCase);
            if (!(isAnchor || isBase) || (nameEnd < html.Length && !IsSeparator(html[nameEnd]) && html[nameEnd] != '>'))
            {
                i = open + 1;
                continue;
            }

            var tag = ParseTag(html, nameEnd);
            output.Append(html, copied, open - copied);
            if (isBase)
            {
                // Dropped: clients would resolve every link against it, and its target is taken into account here.
                if (tag.Hrefs.Count > 0)
                {
                    links.SetBase(WebUtility.HtmlDecode(html[tag.Hrefs[0].ValueStart..tag.Hrefs[0].ValueEnd]));
                }
            }
            else
            {
                var at = open;
                foreach (var href in tag.Hrefs)
                {
                    output.Append(html, at, href.SpanStart - at);
                    var mapped = links.Map(WebUtility.HtmlDecode(html[href.ValueStart..href.ValueEnd])) ?? "";
                    output.Append("href=\"").Append(WebUtility.HtmlEncode(mapped)).Append('"');
                    at = href.SpanEnd;
                }

                output.Append(html, at, tag.End - at);
            }

            copied = i = tag.End;
        }

        output.Append(html, copied, html.Length - copied);
        return output.ToString();
    }

    private static bool IsSeparator(char c) => c is ' ' or '\t' or '\n' or '\r' or '\f' or '/';

    /// <summary>
    /// The attributes of a start tag from just after its name to just after its <c>&gt;</c> (or the end of the
    /// text): where each <c>href</c> attribute is (name to end of value) and where its value is (inside any quotes).
    /// </summary>
    private static (List<(int SpanStart, int SpanEnd, int ValueStart, int ValueEnd)> Hrefs, int End) ParseTag(string html, int position)
    {
        var hrefs = new List<(int, int, int, int)>();
        var i = position;
        while (true)
        {
            while (i < html.Length && IsSeparator(html[i]))
            {
                i++;
            }

            if (i >= html.Length)
            {
                return (hrefs, html.Length);
            }

            if (html[i] == '>')
            {
                return (hrefs, i + 1);
            }

            var nameStart = i;
            while (i < html.Length && !IsSeparator(html[i]) && html[i] is not ('>' or '='))
            {
                i++;
            }

            var attribute = html[nameStart..i];
            var afterName = i;
            while (i < html.Length && html[i] is ' ' or '\t' or '\n' or '\r' or '\f')
            {
                i++;
            }

            if (i >= html.Length || html[i] != '=')
            {
                i = afterName == nameStart ? afterName + 1 : afterName; // no value
                continue;
            }

            i++;
            while (i < html.Length && html[i] is ' ' or '\t' or '\n' or '\r' or '\f')
            {
                i++;
            }

            int valueStart, valueEnd;
            if (i < html.Length && html[i] is '"' or '\'')
            {
                var quote = html[i];
                valueStart = i + 1;
                var close = html.IndexOf(quote, valueStart);
                valueEnd = close < 0 ? html.Length : close;
                i = close < 0 ? html.Length : close + 1;
            }
            else
            {
                valueStart = i;
                while (i < html.Length && html[i] is not (' ' or '\t' or '\n' or '\r' or '\f' or '>'))
                {
                    i++;
                }

                valueEnd = i;
            }

            if (attribute.Equals("href", StringComparison.OrdinalIgnoreCase))
            {
                hrefs.Add((nameStart, i, valueStart, valueEnd));
            }
        }
    }
}
