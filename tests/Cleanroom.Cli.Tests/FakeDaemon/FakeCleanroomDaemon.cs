using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Cli.Tests.FakeDaemon;

/// <summary>
/// A FAKE of our own daemon for client-side tests only: an in-process Kestrel gRPC server on a temporary unix socket
/// serving cleanroom.v1 with canned behaviour (<see cref="FakeBehaviours"/>). It boots no VM and shares no code with
/// src/Cleanroom.Daemon; the real daemon is tested elsewhere.
/// </summary>
public sealed class FakeCleanroomDaemon : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("cleanroom-cli-tests-").FullName;
    private WebApplication? _app;

    public string SocketPath => Path.Join(_directory, "fake.sock");

    public string Endpoint => "unix://" + SocketPath;

    internal FakeDaemonState State { get; } = new();

    internal FakeCacheState Cache { get; } = new();

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // The real daemon's listener is HTTP/2 only too: clients must speak prior-knowledge h2 over the socket.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenUnixSocket(SocketPath, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(State);
        builder.Services.AddSingleton(Cache);
        _app = builder.Build();
        _app.MapGrpcService<FakeSandboxService>();
        _app.MapGrpcService<FakeExecutionService>();
        _app.MapGrpcService<FakeSystemService>();
        _app.MapGrpcService<FakeImageService>();
        _app.MapGrpcService<FakeCacheService>();
        await _app.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        Directory.Delete(_directory, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class FakeDaemonGroup : ICollectionFixture<FakeCleanroomDaemon>
{
    public const string Name = "fake daemon";
}
