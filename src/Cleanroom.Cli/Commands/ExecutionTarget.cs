using Cleanroom.Api.V1;
using Cleanroom.Cli.Rendering;
using Cleanroom.Client;

namespace Cleanroom.Cli.Commands;

/// <summary>
/// Finds the one execution <c>execution inspect</c> and <c>status</c> are about: by id (unique across sandboxes, so
/// the sandbox is only a check), or the newest one (<c>--last</c>), of one sandbox or of all.
/// </summary>
internal static class ExecutionTarget
{
    /// <summary>The execution, or null when <c>--last</c> found none (the caller says so).</summary>
    public static async Task<Execution?> ResolveAsync(DaemonConnection connection, string? executionId, string? sandboxId, CancellationToken cancellationToken)
    {
        if (executionId is not null)
        {
            var response = await connection.Executions.GetExecutionAsync(
                new GetExecutionRequest { ExecutionId = executionId, SandboxId = sandboxId ?? "" }, cancellationToken: cancellationToken);
            return response.Execution;
        }

        var newest = await connection.Executions.ListExecutionsAsync(
            new ListExecutionsRequest { SandboxId = sandboxId ?? "", All = true, Limit = 1 }, cancellationToken: cancellationToken);
        return newest.Executions.FirstOrDefault();
    }

    /// <summary>
    /// Resolves the execution and prints it: as JSON with <paramref name="json"/>, else with <paramref name="render"/>.
    /// Fails (with a message) when <c>--last</c> found none.
    /// </summary>
    public static async Task<int> ShowAsync(
        CliContext context, DaemonConnection connection, string? executionId, string? sandboxId, bool json, Action<Execution> render, CancellationToken cancellationToken)
    {
        var execution = await ResolveAsync(connection, executionId, sandboxId, cancellationToken);
        if (execution is null)
        {
            context.Complain(NoneMessage(sandboxId));
            return ExitCodes.Failure;
        }

        if (json)
        {
            JsonOutput.Write(context.Out, execution);
        }
        else
        {
            render(execution);
        }

        return ExitCodes.Success;
    }

    public static string NoneMessage(string? sandboxId) =>
        sandboxId is null ? "there are no executions" : $"sandbox {sandboxId} has no executions";
}
