using System.Text.Json;

namespace Cleanroom.Daemon.Tests;

/// <summary>
/// The connect-node conformance client, made ready once per test class in a temporary directory of its own: a copy of
/// tests/conformance/client.mjs, its generated <c>gen/</c> (buf with protoc-gen-es over our .protos) and a link to the
/// packages scripts/build-conformance-client.sh installed in .build/conformance/node_modules. Nothing is written into
/// the checkout's tests/conformance, so concurrent runs do not race and a read-only checkout works.
/// </summary>
public sealed class ConformanceClient : IDisposable
{
    private readonly Lazy<Task<string>> _directory;

    private string? _made;

    public ConformanceClient() => _directory = new Lazy<Task<string>>(PrepareAsync);

    /// <summary>Runs client.mjs with the arguments; returns one JSON object per line it printed.</summary>
    public async Task<List<JsonElement>> RunAsync(params string[] arguments)
    {
        var dir = await _directory.Value;
        var output = await NodeTools.RunAsync(dir, TimeSpan.FromMinutes(1), "node", ["client.mjs", .. arguments]);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
    }

    public void Dispose()
    {
        if (_made is not null)
        {
            Directory.Delete(_made, recursive: true);
        }
    }

    private async Task<string> PrepareAsync()
    {
        var root = NodeTools.RepositoryRoot();
        var source = Path.Combine(root, "tests", "conformance");
        var modules = Path.Combine(root, ".build", "conformance", "node_modules");
        // Installed by scripts/test.sh, so the test itself reaches no registry.
        Assert.True(Directory.Exists(modules), $"{modules} is missing: run scripts/build-conformance-client.sh");

        var dir = _made = Directory.CreateTempSubdirectory("cr-conformance-").FullName;
        // Node resolves the packages of client.mjs and of the generated modules from the nearest node_modules upwards.
        Directory.CreateSymbolicLink(Path.Combine(dir, "node_modules"), modules);
        File.Copy(Path.Combine(source, "client.mjs"), Path.Combine(dir, "client.mjs"));
        var bin = Path.Combine(modules, ".bin");
        await NodeTools.RunAsync(
            dir,
            TimeSpan.FromMinutes(2),
            Path.Combine(bin, "buf"),
            ["generate", Path.Combine(root, "src", "Cleanroom.Api", "Protos"), "--template", Path.Combine(source, "buf.gen.yaml"), "--output", dir],
            path: bin);
        return dir;
    }
}
