using System.Security.Cryptography;
using System.Text;
using Cleanroom.Gateway.Tests.Server;

namespace Cleanroom.Gateway.Tests.RubyGems;

/// <summary>
/// A static gem server for one gem on loopback, standing in for rubygems.org: the gem built by the real
/// <c>gem build</c>, the legacy index by <c>gem generate_index</c>, and the compact index (<c>versions</c>,
/// <c>info/GEM</c>, <c>names</c>) written here with the checksums Bundler checks (MD5 of the info file, SHA-256 of
/// the gem).
/// </summary>
internal sealed class RubyGemsIndex : IAsyncDisposable
{
    public const string Host = "rubygems.org";
    public const string Name = "tiny_gem";
    public const string Version = "0.1.0";

    private readonly Scratch _scratch = new();

    private RubyGemsIndex()
    {
    }

    public PackageIndexServer Server { get; } = new();

    public const string GemFile = $"{Name}-{Version}.gem";

    public byte[] Gem { get; private set; } = [];

    public string InfoText { get; private set; } = "";

    public IReadOnlyDictionary<string, Uri> Upstreams => new Dictionary<string, Uri> { [Host] = Server.BaseUri };

    public static async Task<RubyGemsIndex> BuildAsync()
    {
        var index = new RubyGemsIndex();
        try
        {
            await index.BuildFilesAsync();
            return index;
        }
        catch
        {
            await index.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        _scratch.Dispose();
    }

    private async Task BuildFilesAsync()
    {
        var source = Directory.CreateDirectory(Path.Combine(_scratch.Path, "source")).FullName;
        var repository = Directory.CreateDirectory(Path.Combine(_scratch.Path, "repository", "gems")).Parent!.FullName;
        var home = Path.Combine(_scratch.Path, "home");
        Directory.CreateDirectory(Path.Combine(source, "lib"));
        await File.WriteAllTextAsync(Path.Combine(source, "lib", $"{Name}.rb"), "module TinyGem\n  VERSION = \"0.1.0\"\nend\n");
        await File.WriteAllTextAsync(Path.Combine(source, $"{Name}.gemspec"), $"""
            Gem::Specification.new do |s|
              s.name = "{Name}"
              s.version = "{Version}"
              s.summary = "a test gem"
              s.authors = ["cleanroom tests"]
              s.license = "MIT"
              s.files = ["lib/{Name}.rb"]
            end
            """);
        var (built, buildOutput) = await RubyTools.RunAsync(RubyTools.Gem, source, home, null, "build", $"{Name}.gemspec");
        Assert.True(built == 0, "gem build failed:\n" + buildOutput);
        File.Copy(Path.Combine(source, GemFile), Path.Combine(repository, "gems", GemFile));
        var (indexed, indexOutput) = await RubyTools.RunAsync(RubyTools.Gem, repository, home, null, "generate_index", "-d", repository);
        Assert.True(indexed == 0, "gem generate_index failed:\n" + indexOutput);

        foreach (var file in Directory.EnumerateFiles(repository, "*", SearchOption.AllDirectories))
        {
            var path = "/" + Path.GetRelativePath(repository, file).Replace('\\', '/');
            Server.Add(path, "application/octet-stream", await File.ReadAllBytesAsync(file));
        }

        Gem = await File.ReadAllBytesAsync(Path.Combine(repository, "gems", GemFile));
        InfoText = $"---\n{Version} |checksum:{Convert.ToHexStringLower(SHA256.HashData(Gem))}\n";
        var info = Encoding.UTF8.GetBytes(InfoText);
        Server.Add($"/info/{Name}", "text/plain; charset=utf-8", info);
#pragma warning disable CA5351 // The compact index format names each info file by its MD5; Bundler compares it.
        var infoMd5 = Convert.ToHexStringLower(MD5.HashData(info));
#pragma warning restore CA5351
        Server.Add("/versions", "text/plain; charset=utf-8", Encoding.UTF8.GetBytes($"created_at: 2026-01-01T00:00:00Z\n---\n{Name} {Version} {infoMd5}\n"));
        Server.Add("/names", "text/plain; charset=utf-8", Encoding.UTF8.GetBytes($"---\n{Name}\n"));
    }
}
