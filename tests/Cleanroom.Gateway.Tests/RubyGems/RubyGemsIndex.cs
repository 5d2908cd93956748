using Cleanroom.Gateway.Tests.Server;
using Cleanroom.TestSupport;

namespace Cleanroom.Gateway.Tests.RubyGems;

/// <summary>
/// A static gem server for one gem on loopback, standing in for rubygems.org: <see cref="TinyGem"/>'s gem (built by the
/// real <c>gem build</c>), legacy index (<c>gem generate_index</c>) and compact index.
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
        var gem = await TinyGem.BuildAsync(_scratch.Path, Name, Version, legacyIndex: true);
        foreach (var (path, content) in gem.Files)
        {
            var text = path is "/versions" or "/names" || path.StartsWith("/info/", StringComparison.Ordinal);
            Server.Add(path, text ? "text/plain; charset=utf-8" : "application/octet-stream", content);
        }

        Gem = gem.Gem;
        InfoText = gem.InfoText;
    }
}
