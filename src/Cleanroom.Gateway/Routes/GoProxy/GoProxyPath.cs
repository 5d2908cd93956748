using System.Globalization;

namespace Cleanroom.Gateway.Routes.GoProxy;

/// <summary>
/// The grammar of the path after <c>/goproxy/HOST/</c> (decoded segments):
/// <list type="bullet">
/// <item><c>MODULE/@v/list</c>, <c>MODULE/@latest</c>, <c>MODULE/@v/VERSION.info|.mod|.zip</c> — MODULE a case-escaped
/// module path, VERSION a case-escaped canonical semantic version;</item>
/// <item><c>sumdb/NAME/supported</c>, <c>sumdb/NAME/latest</c>, <c>sumdb/NAME/lookup/MODULE@VERSION</c>,
/// <c>sumdb/NAME/tile/H/L/N[.p/W]</c> — NAME the checksum database's host (checked by the route).</item>
/// </list>
/// A module path's first element needs a dot, so a module can never be named <c>sumdb/…</c>.
/// </summary>
internal static class GoProxyPath
{
    /// <summary>The segment that starts the checksum database's files.</summary>
    public const string SumDbSegment = "sumdb";

    /// <summary>Most 3-digit groups in a tile number (enough for any 64-bit index).</summary>
    private const int MaxTileGroups = 7;

    /// <summary>
    /// Parses <paramref name="segments"/> (the decoded path segments after the host); false with a short reason
    /// (never quoting the input) when the path is outside the grammar.
    /// </summary>
    public static bool TryParse(IReadOnlyList<string> segments, out GoProxyTarget? target, out string problem)
    {
        target = null;
        if (segments.Count == 0 || segments.Any(s => s.Length == 0))
        {
            problem = "the path has an empty segment or names no module";
            return false;
        }

        // An encoded slash would make a different path once decoded; the protocol never writes one.
        if (segments.Any(s => s.Contains('/', StringComparison.Ordinal)))
        {
            problem = "the path has an encoded slash";
            return false;
        }

        return segments[0] == SumDbSegment
            ? TryParseSumDb(segments, out target, out problem)
            : TryParseModule(segments, out target, out problem);
    }

    private static bool TryParseModule(IReadOnlyList<string> segments, out GoProxyTarget? target, out string problem)
    {
        target = null;
        var marker = -1;
        for (var i = 0; i < segments.Count; i++)
        {
            if (segments[i].StartsWith('@'))
            {
                marker = i;
                break;
            }
        }

        if (marker < 1)
        {
            problem = "a module proxy path is MODULE/@v/list, MODULE/@latest or MODULE/@v/VERSION.info|.mod|.zip";
            return false;
        }

        var module = string.Join('/', segments.Take(marker));
        if (!GoModuleNames.IsValidPath(module, out problem))
        {
            return false;
        }

        GoProxyFile file;
        var tail = segments.Skip(marker).ToList();
        if (tail is ["@latest"])
        {
            file = GoProxyFile.Latest;
        }
        else if (tail is ["@v", "list"])
        {
            file = GoProxyFile.List;
        }
        else if (tail is ["@v", var name] && TryVersionFile(name, out file, out var version))
        {
            if (!GoModuleNames.IsCanonicalVersion(version, out problem))
            {
                return false;
            }
        }
        else
        {
            problem = "after the module path comes @v/list, @latest or @v/VERSION.info, .mod or .zip";
            return false;
        }

        target = new GoProxyTarget(file, "/" + module + "/" + string.Join('/', tail));
        problem = "";
        return true;
    }

    private static bool TryVersionFile(string name, out GoProxyFile file, out string version)
    {
        (file, var extension) = Path.GetExtension(name) switch
        {
            ".info" => (GoProxyFile.Info, ".info"),
            ".mod" => (GoProxyFile.Mod, ".mod"),
            ".zip" => (GoProxyFile.Zip, ".zip"),
            _ => (GoProxyFile.List, ""),
        };
        version = extension.Length > 0 ? name[..^extension.Length] : "";
        return extension.Length > 0;
    }

    private static bool TryParseSumDb(IReadOnlyList<string> segments, out GoProxyTarget? target, out string problem)
    {
        target = null;
        problem = "a checksum database path is sumdb/NAME/supported, sumdb/NAME/latest, sumdb/NAME/lookup/MODULE@VERSION or sumdb/NAME/tile/…";
        if (segments.Count < 3)
        {
            return false;
        }

        var rest = segments.Skip(2).ToList();
        GoProxyFile file;
        if (rest is ["supported"])
        {
            file = GoProxyFile.SumDbSupported;
        }
        else if (rest is ["latest"])
        {
            file = GoProxyFile.SumDbLatest;
        }
        else if (rest is ["lookup", ..])
        {
            file = GoProxyFile.SumDbLookup;
            var record = string.Join('/', rest.Skip(1));
            var at = record.IndexOf('@', StringComparison.Ordinal);
            if (at < 0 || record.IndexOf('@', at + 1) >= 0)
            {
                problem = "a checksum database lookup is lookup/MODULE@VERSION";
                return false;
            }

            if (!GoModuleNames.IsValidPath(record[..at], out problem) || !GoModuleNames.IsCanonicalVersion(record[(at + 1)..], out problem))
            {
                return false;
            }
        }
        else if (rest is ["tile", ..])
        {
            file = GoProxyFile.SumDbTile;
            if (!IsTilePath(rest.Skip(1).ToList()))
            {
                problem = "a checksum database tile is tile/H/L/N[.p/W] (H 1-30, L 0-63 or data, N in 3-digit groups, all but the last prefixed x)";
                return false;
            }
        }
        else
        {
            return false;
        }

        target = new GoProxyTarget(file, "/" + string.Join('/', rest));
        problem = "";
        return true;
    }

    /// <summary>
    /// <c>H/L/N[.p/W]</c> of a transparency log tile: H the tile height, L the level (or <c>data</c>), N the tile's
    /// number written in 3-digit groups with all but the last prefixed <c>x</c>, W the width of a partial tile.
    /// </summary>
    private static bool IsTilePath(List<string> parts)
    {
        if (parts.Count < 3 || !TrySmallNumber(parts[0], out var height) || height is < 1 or > 30)
        {
            return false;
        }

        if (parts[1] != "data" && (!TrySmallNumber(parts[1], out var level) || level > 63))
        {
            return false;
        }

        var groups = parts.Skip(2).ToList();
        var last = groups[^1];
        if (groups.Count >= 2 && groups[^2].EndsWith(".p", StringComparison.Ordinal))
        {
            // A partial tile: fewer than 2^H hashes (a full one has no suffix).
            if (!TrySmallNumber(last, out var width) || width < 1 || width >= 1L << (int)height)
            {
                return false;
            }

            groups.RemoveAt(groups.Count - 1);
            groups[^1] = groups[^1][..^2];
        }

        if (groups.Count > MaxTileGroups)
        {
            return false;
        }

        for (var i = 0; i < groups.Count; i++)
        {
            var group = groups[i];
            var digits = i < groups.Count - 1 ? (group.StartsWith('x') ? group[1..] : "") : group;
            if (digits.Length != 3 || !digits.All(char.IsAsciiDigit))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A decimal number of at most 9 digits without a leading zero.</summary>
    private static bool TrySmallNumber(string text, out long value)
    {
        value = 0;
        return text.Length is > 0 and <= 9 && text.All(char.IsAsciiDigit) && (text.Length == 1 || text[0] != '0')
            && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
