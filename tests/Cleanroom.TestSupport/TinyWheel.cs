using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace Cleanroom.TestSupport;

/// <summary>
/// A real, installable pure-Python wheel of one module, built in memory (with a correct RECORD), for the gateway's
/// pip tests and the real pip in a guest.
/// </summary>
public static class TinyWheel
{
    /// <summary>The wheel's file name and bytes for project <paramref name="name"/> at <paramref name="version"/>.</summary>
    public static (string FileName, byte[] Bytes) Build(string name, string version)
    {
        var module = name.Replace('-', '_');
        var distInfo = $"{module}-{version}.dist-info";
        var files = new List<(string Path, byte[] Content)>
        {
            ($"{module}/__init__.py", Encoding.UTF8.GetBytes($"VERSION = \"{version}\"\n")),
            ($"{distInfo}/METADATA", Encoding.UTF8.GetBytes($"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: a test package\n")),
            ($"{distInfo}/WHEEL", Encoding.UTF8.GetBytes("Wheel-Version: 1.0\nGenerator: cleanroom-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n")),
        };
        var record = new StringBuilder();
        foreach (var (path, content) in files)
        {
            var hash = Convert.ToBase64String(SHA256.HashData(content)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            record.Append(System.Globalization.CultureInfo.InvariantCulture, $"{path},sha256={hash},{content.Length}\n");
        }

        record.Append(System.Globalization.CultureInfo.InvariantCulture, $"{distInfo}/RECORD,,\n");
        files.Add(($"{distInfo}/RECORD", Encoding.UTF8.GetBytes(record.ToString())));

        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (path, content) in files)
            {
                var entry = zip.CreateEntry(path, CompressionLevel.Optimal);
                using var stream = entry.Open();
                stream.Write(content);
            }
        }

        return ($"{module}-{version}-py3-none-any.whl", buffer.ToArray());
    }
}
