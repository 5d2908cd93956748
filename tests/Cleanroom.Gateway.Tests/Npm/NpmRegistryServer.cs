using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Cleanroom.Gateway.Tests.Server;
using Cleanroom.TestSupport;

namespace Cleanroom.Gateway.Tests.Npm;

/// <summary>
/// A static npm registry on loopback: packuments (full, or abbreviated when asked for
/// <c>application/vnd.npm.install-v1+json</c>) whose tarball links name <see cref="TarballHost"/>, and the tarballs.
/// Counts what it is asked for, can be taken down (503), can hold answers to pile up concurrent misses, and can
/// serve any bytes under a path for hostile-upstream cases.
/// </summary>
internal sealed class NpmRegistryServer : IAsyncDisposable
{
    /// <summary>The host the packuments' tarball links name (the registry the gateway maps to this server).</summary>
    public const string TarballHost = "registry.npmjs.org";

    private readonly ConcurrentDictionary<string, List<NpmTestPackage>> _packages = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (int Status, string ContentType, byte[] Body)> _raw = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _paths = new();
    private readonly LoopbackHttpServer _server;
    private readonly ArrivalGate _gate = new();

    public NpmRegistryServer()
    {
        _server = LoopbackHttpServer.Start(HandleAsync);
    }

    public Uri BaseUri => _server.BaseUri;

    /// <summary>Every request's raw path, in arrival order.</summary>
    public IReadOnlyList<string> Paths => [.. _paths];

    /// <summary>Every request as received (headers included).</summary>
    public IReadOnlyList<RecordedRequest> Requests => _server.Requests;

    /// <summary>How many tarball requests arrived.</summary>
    public int TarballRequests => Paths.Count(p => p.Contains("/-/", StringComparison.Ordinal));

    /// <summary>When set, every answer is 503.</summary>
    public bool Down { get; set; }

    /// <summary>The link written into packuments for <paramref name="package"/>'s tarball (overridable per test).</summary>
    public Func<NpmTestPackage, string> TarballLink { get; set; } = p => $"https://{TarballHost}{p.TarballPath}";

    public void Add(NpmTestPackage package) =>
        _packages.AddOrUpdate(package.Name, _ => [package], (_, list) => { lock (list) { list.Add(package); } return list; });

    /// <summary>Serves exactly <paramref name="body"/> for the raw path <paramref name="path"/>.</summary>
    public void Raw(string path, int status, string contentType, byte[] body) => _raw[path] = (status, contentType, body);

    /// <summary>The packument as this server writes it (what the gateway's rewrite starts from).</summary>
    public JsonObject Packument(string name, bool abbreviated)
    {
        List<NpmTestPackage> versions;
        lock (_packages[name])
        {
            versions = [.. _packages[name]];
        }

        var all = new JsonObject();
        foreach (var package in versions)
        {
            var document = package.PackageJson();
            if (!abbreviated)
            {
                document["_id"] = $"{name}@{package.Version}";
                document["description"] = "a test package with \"quotes\", é and \\u escapes \u2028";
            }

            document["dist"] = new JsonObject
            {
                ["tarball"] = TarballLink(package),
                ["integrity"] = package.Integrity,
            };
            all[package.Version] = document;
        }

        var packument = new JsonObject
        {
            ["name"] = name,
            ["dist-tags"] = new JsonObject { ["latest"] = versions[^1].Version },
            ["versions"] = all,
            ["modified"] = "2026-01-01T00:00:00.000Z",
        };
        if (!abbreviated)
        {
            packument["_id"] = name;
            packument["time"] = new JsonObject { ["created"] = "2026-01-01T00:00:00.000Z" };
        }

        return packument;
    }

    /// <summary>Holds every answer until <see cref="Release"/> (see <see cref="ArrivalGate.Hold"/>).</summary>
    public Task Hold(int arrivals) => _gate.Hold(arrivals);

    public void Release() => _gate.Release();

    public async ValueTask DisposeAsync()
    {
        Release();
        await _server.DisposeAsync();
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var path = context.Request.RawUrl ?? "";
        _paths.Enqueue(path);
        await _gate.PassAsync();
        if (Down)
        {
            context.Response.StatusCode = 503;
            return;
        }

        if (_raw.TryGetValue(path, out var raw))
        {
            await WriteAsync(context, raw.Status, raw.ContentType, raw.Body);
            return;
        }

        var tarball = _packages.Values.SelectMany(list => { lock (list) { return list.ToList(); } }).FirstOrDefault(p => p.TarballPath == path);
        if (tarball is not null)
        {
            await WriteAsync(context, 200, "application/octet-stream", tarball.Tarball);
            return;
        }

        // npm asks for a scoped packument as /@scope%2fname; /@scope/name works too.
        var name = Uri.UnescapeDataString(path.TrimStart('/'));
        if (_packages.ContainsKey(name))
        {
            var abbreviated = (context.Request.Headers["Accept"] ?? "").Contains("application/vnd.npm.install-v1+json", StringComparison.Ordinal);
            var body = Encoding.UTF8.GetBytes(Packument(name, abbreviated).ToJsonString());
            await WriteAsync(context, 200, abbreviated ? "application/vnd.npm.install-v1+json" : "application/json", body);
            return;
        }

        await WriteAsync(context, 404, "application/json", """{"error":"Not found"}"""u8.ToArray());
    }

    private static async Task WriteAsync(HttpListenerContext context, int status, string contentType, byte[] body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        context.Response.ContentLength64 = body.Length;
        await context.Response.OutputStream.WriteAsync(body);
    }
}
