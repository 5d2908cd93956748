using System.Runtime.Versioning;
using Cleanroom.Api.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Cleanroom.Cli.Tests.FakeDaemon;

/// <summary>The fake daemon's SandboxService: sandboxes are records that are READY at once.</summary>
internal sealed class FakeSandboxService(FakeDaemonState state) : SandboxService.SandboxServiceBase
{
    public override async Task<CreateSandboxResponse> CreateSandbox(CreateSandboxRequest request, ServerCallContext context)
    {
        state.CreateRequests.Enqueue(request);
        state.Log("CreateSandbox " + (request.ImageRef.Length > 0 ? request.ImageRef : PolicyImage(request)));
        if (request.ImageRef == "slow")
        {
            // A boot that never finishes: only the client giving up ends the call.
            state.SlowCreateStarted.TrySetResult();
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
        }

        if (state.CreateSandboxError is { } error)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, error));
        }

        var now = Timestamp.FromDateTime(DateTime.UtcNow);
        var sandbox = new Sandbox
        {
            SandboxId = state.NextId("s"),
            Status = SandboxStatus.Ready,
            Backend = "fake",
            ImageRef = request.ImageRef.Length > 0 ? request.ImageRef : "builtin:base",
            ImageDigest = request.ImageRef.Length > 0 && request.ImageRef != "builtin:busybox" ? FakeImageService.DigestOf(request.ImageRef) : "",
            CreatedAt = now,
            UpdatedAt = now,
            Vcpus = request.Options?.Vcpus ?? 0,
            MemoryMib = request.Options?.MemoryMib ?? 0,
        };
        state.Sandboxes[sandbox.SandboxId] = sandbox;
        return new CreateSandboxResponse { Sandbox = sandbox.Clone() };
    }

    public override Task<GetSandboxResponse> GetSandbox(GetSandboxRequest request, ServerCallContext context) =>
        Task.FromResult(new GetSandboxResponse { Sandbox = Find(request.SandboxId).Clone() });

    public override Task<ListSandboxesResponse> ListSandboxes(ListSandboxesRequest request, ServerCallContext context)
    {
        // As the daemon answers: newest first, at most the limit (0: all the fake has), saying when it is cut.
        var matching = state.Sandboxes.Values.Where(s => request.All || s.Status == SandboxStatus.Ready)
            .OrderByDescending(s => s.CreatedAt).ThenByDescending(s => s.SandboxId, StringComparer.Ordinal).ToList();
        var limit = request.Limit == 0 ? matching.Count : request.Limit;
        var response = new ListSandboxesResponse { Truncated = matching.Count > limit };
        response.Sandboxes.AddRange(matching.Take(limit).Select(s => s.Clone()));
        return Task.FromResult(response);
    }

    public override Task<TerminateSandboxResponse> TerminateSandbox(TerminateSandboxRequest request, ServerCallContext context)
    {
        var sandbox = Find(request.SandboxId);
        sandbox.Status = SandboxStatus.Stopped;
        state.Terminated.Enqueue(sandbox.SandboxId);
        return Task.FromResult(new TerminateSandboxResponse { SandboxId = sandbox.SandboxId, Terminated = true, Message = "terminated by request" });
    }

    [SupportedOSPlatform("linux")]
    public override Task<StatSandboxPathResponse> StatSandboxPath(StatSandboxPathRequest request, ServerCallContext context) =>
        Task.FromResult(new StatSandboxPathResponse { Stat = FakeGuestFiles.Stat(request.SandboxId, request.Path) });

    [SupportedOSPlatform("linux")]
    public override Task ArchiveSandboxPaths(ArchiveSandboxPathsRequest request, IServerStreamWriter<ArchiveSandboxPathsResponse> responseStream, ServerCallContext context) =>
        FakeGuestFiles.ArchiveAsync(request.SandboxId, request.Base.Length == 0 ? "/" : request.Base, request.Paths, data =>
            responseStream.WriteAsync(new ArchiveSandboxPathsResponse { Data = Google.Protobuf.ByteString.CopyFrom(data.Span) }, context.CancellationToken));

    [SupportedOSPlatform("linux")]
    public override async Task<ExtractSandboxArchiveResponse> ExtractSandboxArchive(IAsyncStreamReader<ExtractSandboxArchiveRequest> requestStream, ServerCallContext context)
    {
        // The fake collects the whole tar first: test trees are small.
        if (!await requestStream.MoveNext(context.CancellationToken))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "missing archive"));
        }

        var first = requestStream.Current;
        var tar = new MemoryStream();
        first.Data.WriteTo(tar);
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            requestStream.Current.Data.WriteTo(tar);
        }

        state.Log($"ExtractSandboxArchive {first.Directory}");
        tar.Position = 0;
        FakeGuestFiles.Extract(first.SandboxId, first.Directory, tar);
        return new ExtractSandboxArchiveResponse { Bytes = tar.Length };
    }

    // The image a policy names, read from the compiled payload the client sent; "" when there is none.
    private static string PolicyImage(CreateSandboxRequest request) =>
        request.CompiledPolicy.Length > 0 ? Cleanroom.Policy.CompiledPolicy.FromJson(request.CompiledPolicy).Image.Reference : "";

    private Sandbox Find(string id) =>
        state.Sandboxes.TryGetValue(id, out var sandbox) ? sandbox : throw new RpcException(new Status(StatusCode.NotFound, $"unknown sandbox {id}"));
}
