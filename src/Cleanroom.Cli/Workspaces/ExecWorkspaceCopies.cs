using Cleanroom.Api.V1;
using Cleanroom.Client;
using Cleanroom.Escaping;
using Cleanroom.Workspaces;
using Cleanroom.Workspaces.Changes;
using Grpc.Core;

namespace Cleanroom.Cli.Workspaces;

/// <summary>
/// exec's <c>--copy-in</c> / <c>--copy-out</c> / <c>--sync</c>: local changes go in before the command starts, the
/// sandbox's changes come back after it ends (whatever its exit code: a formatter that exits 1 still changed files).
/// A copy-out that fails or meets local edits keeps the sandbox and names it, so nothing is lost.
/// </summary>
internal sealed class ExecWorkspaceCopies(DaemonConnection connection, CliContext context, RepositoryCheckout? repository, bool copyIn, bool copyOut, bool force)
{
    /// <summary>A copy failed (the exec then fails even when the command succeeded).</summary>
    public bool Failed { get; private set; }

    public async Task<bool> PrepareAsync(string sandboxId, CancellationToken ct)
    {
        if (!copyIn || repository is null)
        {
            return true;
        }

        try
        {
            var count = await WorkspaceTransfer.CopyInAsync(connection, sandboxId, repository.LocalPath, repository.Commit, ct);
            await context.Error.WriteLineAsync($"cleanroom: copied {count} local change{(count == 1 ? "" : "s")} into the sandbox");
            return true;
        }
        catch (Exception ex) when (ex is WorkspaceException or RpcException)
        {
            Failed = true;
            context.Complain("copy-in failed: " + Describe(ex));
            return false;
        }
    }

    public async Task<bool> FinishAsync(string sandboxId, int exitCode, CancellationToken ct)
    {
        if (!copyOut || repository is null)
        {
            return false;
        }

        string? problem;
        try
        {
            var result = await WorkspaceTransfer.CopyOutAsync(connection, sandboxId, repository.LocalPath, new CopyOutOptions { Force = force }, ct);
            await context.Error.WriteLineAsync("cleanroom: " + result.Summary());
            foreach (var conflict in result.Conflicts.Take(20))
            {
                await context.Error.WriteLineAsync($"  changed locally: {UntrustedText.Escape(conflict.Path)}");
            }

            problem = result.Outcome == CopyOutOutcome.Conflicts ? "local edits conflict with the sandbox's changes" : null;
        }
        catch (Exception ex) when (ex is WorkspaceException or RpcException or InvalidDataException)
        {
            problem = "copy-out failed: " + Describe(ex);
            context.Complain(problem);
        }

        if (problem is null)
        {
            return false;
        }

        Failed = true;
        try
        {
            await connection.Sandboxes.KeepSandboxAsync(new KeepSandboxRequest { SandboxId = sandboxId }, cancellationToken: ct);
            context.Complain($"the sandbox is kept: {sandboxId} (copy its changes with 'cleanroom workspace copy-out {sandboxId} [--force]', then remove it with 'cleanroom sandbox rm {sandboxId}')");
            return true;
        }
        catch (RpcException ex)
        {
            context.Complain($"could not keep sandbox {sandboxId}: {DaemonErrors.Describe(ex, connection.Endpoint)}");
            return false;
        }
    }

    private string Describe(Exception ex) => ex is RpcException rpc ? DaemonErrors.Describe(rpc, connection.Endpoint) : ex.Message;
}
