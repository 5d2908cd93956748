using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Cleanroom.TestSupport;

/// <summary>One version of a test package: its package.json, a real gzipped tarball (<c>package/…</c>) and its digests.</summary>
public sealed class NpmTestPackage
{
    public NpmTestPackage(string name, string version, IReadOnlyDictionary<string, string>? dependencies = null)
    {
        Name = name;
        Version = version;
        Dependencies = dependencies ?? new Dictionary<string, string>();
        IndexJs = $"module.exports = {{ name: {JsonValue.Create(name).ToJsonString()}, version: \"{version}\" }};\n";
        Tarball = BuildTarball();
        Integrity = "sha512-" + Convert.ToBase64String(SHA512.HashData(Tarball));
    }

    public string Name { get; }

    public string Version { get; }

    public IReadOnlyDictionary<string, string> Dependencies { get; }

    /// <summary>The package's index.js, to compare with what npm installs.</summary>
    public string IndexJs { get; }

    public byte[] Tarball { get; }

    public string Integrity { get; }

    /// <summary>The tarball's file name: the name without its scope, then the version.</summary>
    public string FileName => $"{Name[(Name.IndexOf('/', StringComparison.Ordinal) + 1)..]}-{Version}.tgz";

    /// <summary>The path the tarball is served under: <c>/NAME/-/FILE</c>.</summary>
    public string TarballPath => $"/{Name}/-/{FileName}";

    public JsonObject PackageJson()
    {
        var dependencies = new JsonObject();
        foreach (var (name, range) in Dependencies)
        {
            dependencies[name] = range;
        }

        return new JsonObject
        {
            ["name"] = Name,
            ["version"] = Version,
            ["main"] = "index.js",
            ["license"] = "MIT",
            ["dependencies"] = dependencies,
        };
    }

    private byte[] BuildTarball()
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Ustar, leaveOpen: true))
        {
            Add(tar, "package/package.json", PackageJson().ToJsonString());
            Add(tar, "package/index.js", IndexJs);
        }

        return output.ToArray();
    }

    private static void Add(TarWriter tar, string path, string text)
    {
        var entry = new UstarTarEntry(TarEntryType.RegularFile, path)
        {
            DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)),
            Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            ModificationTime = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero),
        };
        tar.WriteEntry(entry);
    }
}
