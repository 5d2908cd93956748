using Cleanroom.Api.V1;
using Cleanroom.Daemon;
using Cleanroom.Daemon.Connect;
using Cleanroom.Daemon.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Cli.Tests.FakeDaemon;

/// <summary>
/// A FAKE of our own daemon for client-side tests only: an in-process Kestrel gRPC server on a temporary unix socket
/// serving cleanroom.v1 with canned behaviour (<see cref="FakeBehaviours"/>). It boots no VM; of src/Cleanroom.Daemon it
/// shares only the Connect protocol's middleware and the socket's protocol detection, so the CLI's Connect calls meet
/// the real server side of that protocol; the real daemon is tested elsewhere.
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
        State.Directory = _directory;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // As the real daemon's socket: prior-knowledge HTTP/2 for gRPC, HTTP/1.1 for Connect, which the real daemon's
        // own Connect middleware serves from these fake services (the CLI follows output over Connect on a socket).
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AllowAlternateSchemes = true; // as the real daemon's: its HTTP/2 connections say :scheme http
            kestrel.ListenUnixSocket(SocketPath, listen => listen.UseHttp1AndPriorKnowledgeHttp2());
        });
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(State);
        builder.Services.AddSingleton(Cache);
        builder.Services.AddSingleton(new DaemonOptions { SocketPath = SocketPath, StateDir = _directory });
        builder.Services.AddSingleton(new ConnectMethods()
            .Add<FakeSandboxService>(SandboxService.BindService, SandboxService.Descriptor)
            .Add<FakeExecutionService>(ExecutionService.BindService, ExecutionService.Descriptor)
            .Add<FakeSystemService>(SystemService.BindService, SystemService.Descriptor)
            .Add<FakeImageService>(ImageService.BindService, ImageService.Descriptor)
            .Add<FakeCacheService>(CacheService.BindService, CacheService.Descriptor));
        _app = builder.Build();
        _app.UseMiddleware<ConnectEndpoint>();
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
