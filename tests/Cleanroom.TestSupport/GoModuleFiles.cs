using System.IO.Compression;
using System.Text;

namespace Cleanroom.TestSupport;

/// <summary>
/// The files a GOPROXY serves for a test module with one package: its source, go.mod, <c>.info</c> and a real module
/// zip (every file under <c>MODULE@VERSION/</c>), always the same bytes for the same module and version, and the
/// protocol's case escaping of paths. Used by the gateway's go tests and by the real go in a guest.
/// </summary>
public static class GoModuleFiles
{
    /// <summary>The Go source of a module's one package, so a test can check the bytes that arrived.</summary>
    public static string Source(string module, string version) =>
        $"package {PackageName(module)}\n\n// Version is the module version this file came from.\nconst Version = \"{module}@{version}\"\n";

    /// <summary>The go.mod of a module.</summary>
    public static string GoMod(string module) => $"module {module}\n\ngo 1.19\n";

    /// <summary>The name of the module's one source file inside its zip (after <c>MODULE@VERSION/</c>).</summary>
    public static string SourceFileName(string module) => PackageName(module) + ".go";

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
            Write(zip, $"{module}@{version}/{SourceFileName(module)}", Source(module, version));
        }

        return buffer.ToArray();
    }

    /// <summary>The <c>.info</c> JSON of a version, dated <paramref name="day"/> days into 2026.</summary>
    public static byte[] Info(string version, int day) =>
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
