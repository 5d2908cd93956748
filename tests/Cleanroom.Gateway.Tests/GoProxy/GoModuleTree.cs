using System.IO.Compression;
using System.Text;
using Cleanroom.Gateway.Tests.Server;

namespace Cleanroom.Gateway.Tests.GoProxy;

/// <summary>
/// A static GOPROXY tree on a loopback file server, built here: for each module version its <c>.info</c>,
/// <c>.mod</c> and a real module zip (every file under <c>MODULE@VERSION/</c>), the module's <c>@v/list</c> and
/// <c>@latest</c>. Paths are case-escaped as the protocol wants (<c>example.test/Upper</c> is
/// <c>example.test/!upper</c>).
/// </summary>
internal static class GoModuleTree
{
    /// <summary>The Go source of a module's one package, so a test can check the bytes that arrived.</summary>
    public static string Source(string module, string version) =>
        $"package {PackageName(module)}\n\n// Version is the module version this file came from.\nconst Version = \"{module}@{version}\"\n";

    /// <summary>The go.mod of a module.</summary>
    public static string GoMod(string module) => $"module {module}\n\ngo 1.19\n";

    /// <summary>The protocol's case escaping: each upper-case letter becomes '!' and its lower-case form.</summary>
    public static string Escape(string text)
    {
        var builder = new StringBuilder(text.Length + 4);
        foreach (var c in text)
        {
            if (char.IsAsciiLetterUpper(c))
            {
                builder.Append('!').Append(char.ToLowerInvariant(c));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    /// <summary>A module zip as the go command expects it: every entry under <c>MODULE@VERSION/</c>.</summary>
    public static byte[] Zip(string module, string version)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            Write(zip, $"{module}@{version}/go.mod", GoMod(module));
            Write(zip, $"{module}@{version}/{PackageName(module)}.go", Source(module, version));
        }

        return buffer.ToArray();
    }

    /// <summary>Serves <paramref name="versions"/> of <paramref name="module"/> (the last is the latest).</summary>
    public static void Add(FileServer server, string module, params string[] versions)
    {
        var root = "/" + Escape(module);
        for (var i = 0; i < versions.Length; i++)
        {
            var version = versions[i];
            var escaped = Escape(version);
            server.Add($"{root}/@v/{escaped}.info", Info(version, i));
            server.Add($"{root}/@v/{escaped}.mod", Encoding.UTF8.GetBytes(GoMod(module)));
            server.Add($"{root}/@v/{escaped}.zip", Zip(module, version));
        }

        server.Add($"{root}/@v/list", Encoding.UTF8.GetBytes(string.Concat(versions.Select(v => v + "\n"))));
        server.Add($"{root}/@latest", Info(versions[^1], versions.Length - 1));
    }

    private static byte[] Info(string version, int day) =>
        Encoding.UTF8.GetBytes($"{{\"Version\":\"{version}\",\"Time\":\"2026-01-{day + 1:00}T00:00:00Z\"}}");

    private static string PackageName(string module) => module[(module.LastIndexOf('/') + 1)..].ToLowerInvariant();

    private static void Write(ZipArchive zip, string name, string content)
    {
        var entry = zip.CreateEntry(name, CompressionLevel.Optimal);

        // A fixed time: the same module must always be the same bytes (the tests compare zips built at different moments).
        entry.LastWriteTime = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        using var stream = entry.Open();
        stream.Write(Encoding.UTF8.GetBytes(content));
    }
}
