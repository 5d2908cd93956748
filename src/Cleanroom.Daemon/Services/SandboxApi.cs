using Cleanroom.Api.V1;
using Cleanroom.Daemon.Events;
using Cleanroom.Daemon.PolicySupport;
using Cleanroom.Daemon.Sandboxes;
using Grpc.Core;

namespace Cleanroom.Daemon.Services;

/// <summary>cleanroom.v1.SandboxService: a thin layer over <see cref="SandboxManager"/> (files: <see cref="Files.SandboxFiles"/>).</summary>
internal sealed partial class SandboxApi(SandboxManager sandboxes, SandboxEventStore events, Files.SandboxFiles files, Files.WorkspaceChanges workspaces, DaemonOptions options) : SandboxService.SandboxServiceBase
{
    /// <summary>The most sandboxes one ListSandboxes answer holds (and what a request without a limit gets).</summary>
    public const int MaxListed = 1000;

    public override async Task<CreateSandboxResponse> CreateSandbox(CreateSandboxRequest request, ServerCallContext context)
    {
        if (request.Backend.Length > 0 && request.Backend != sandboxes.BackendName)
        {
            throw new DaemonException(StatusCode.FailedPrecondition, ReasonCode.BackendUnavailable, $"backend '{request.Backend}' is not available; this daemon runs '{sandboxes.BackendName}'");
        }

        var policy = request.CompiledPolicy.Length > 0 ? PolicyPayload.Validate(request.CompiledPolicy) : null;
        var repository = request.RepositoryCheckout is { } checkout
            ? new Workspaces.RepositoryRequest(checkout.LocalPath, checkout.Commit, checkout.DisplayName, checkout.Url)
            : null;
        var (record, reused) = await sandboxes.CreateOrReuseAsync(
            new SandboxRequest(request.ImageRef, request.Options?.Vcpus ?? 0, request.Options?.MemoryMib ?? 0, policy, request.AutoRemove, request.DangerouslyAllowAll, repository, request.ClientKey),
            context.CancellationToken);
        if (reused)
        {
            return new CreateSandboxResponse
            {
                Sandbox = record.ToProto(sandboxes.ActiveExecutionId(record.Id)),
                Message = "reused the sandbox with this client_key",
                Reused = true,
            };
        }

        var response = new CreateSandboxResponse { Sandbox = record.ToProto(), Message = "sandbox ready", PolicySource = policy is null ? "" : "client" };
        if (policy is not null)
        {
            response.Warnings.AddRange(PolicyEnforcement.Warnings(policy));
        }

        return response;
    }

    public override Task<GetSandboxResponse> GetSandbox(GetSandboxRequest request, ServerCallContext context)
    {
        var record = sandboxes.Get(request.SandboxId);
        return Task.FromResult(new GetSandboxResponse { Sandbox = record.ToProto(sandboxes.ActiveExecutionId(record.Id)) });
    }

    public override Task<ListSandboxesResponse> ListSandboxes(ListSandboxesRequest request, ServerCallContext context)
    {
        if (request.Limit < 0)
        {
            throw DaemonException.InvalidArgument($"limit {request.Limit} is negative; give 1 to {MaxListed}, or 0 for {MaxListed}");
        }

        // One more than asked tells whether the answer is cut.
        var limit = request.Limit == 0 ? MaxListed : Math.Min(request.Limit, MaxListed);
        var listed = sandboxes.List(request.All, SandboxClientKey.Validate(request.ClientKey), limit + 1);
        var response = new ListSandboxesResponse { Truncated = listed.Count > limit };
        response.Sandboxes.AddRange(listed.Take(limit).Select(s => s.ToProto(sandboxes.ActiveExecutionId(s.Id))));
        return Task.FromResult(response);
    }

    public override Task<KeepSandboxResponse> KeepSandbox(KeepSandboxRequest request, ServerCallContext context) =>
        Task.FromResult(new KeepSandboxResponse { Sandbox = sandboxes.Keep(request.SandboxId).ToProto(sandboxes.ActiveExecutionId(request.SandboxId)) });

    public override async Task<TerminateSandboxResponse> TerminateSandbox(TerminateSandboxRequest request, ServerCallContext context)
    {
        var record = await sandboxes.TerminateAsync(request.SandboxId, "terminated by request");
        return new TerminateSandboxResponse { SandboxId = record.Id, Terminated = true, Message = record.StatusMessage };
    }

    public override async Task StreamSandboxEvents(StreamSandboxEventsRequest request, IServerStreamWriter<SandboxEvent> responseStream, ServerCallContext context)
    {
        var record = sandboxes.Get(request.SandboxId); // NotFound for an unknown id
        if (!request.Follow || record.IsTerminal)
        {
            foreach (var stored in events.List(record.Id, request.AfterSequence))
            {
                await responseStream.WriteAsync(stored.ToProto(), context.CancellationToken);
            }

            return;
        }

        await foreach (var live in events.FollowAsync(record.Id, context.CancellationToken))
        {
            if (live.Sequence > request.AfterSequence)
            {
                await responseStream.WriteAsync(live.ToProto(), context.CancellationToken);
            }

            // The final status ends the stream, also when it happened between the check above and the subscription.
            if (live.Kind == Events.SandboxEventKind.Status && (live.Status == nameof(State.SandboxStatus.Stopped) || live.Status == nameof(State.SandboxStatus.Failed)))
            {
                break;
            }
        }
    }
}
