using System.Globalization;
using Cleanroom.Api.V1;

namespace Cleanroom.Cli.Rendering;

/// <summary>How executions read in <c>execution ls</c> and <c>execution inspect</c>.</summary>
internal static class ExecutionViews
{
    public static readonly IReadOnlyList<string> TableHeaders = ["ID", "STATUS", "EXIT", "CREATED", "COMMAND"];

    public static void WriteTable(TextWriter output, OutputStyle style, IEnumerable<Execution> executions)
    {
        var rows = executions
            .Select(e => (IReadOnlyList<Cell>)
            [
                e.ExecutionId,
                new Cell(ApiText.Status(e.Status), ApiText.StatusColor(e.Status)),
                ExitCode(e),
                ApiText.Time(e.CreatedAt ?? e.StartedAt),
                ApiText.Command(e.Command),
            ])
            .ToList();
        TableWriter.Write(output, style, TableHeaders, rows);
    }

    public static void WriteInspect(TextWriter output, Execution execution) => KeyValueWriter.Write(output,
    [
        ("execution_id", execution.ExecutionId),
        ("sandbox_id", execution.SandboxId),
        ("status", ApiText.Status(execution.Status)),
        ("command", ApiText.Command(execution.Command)),
        ("exit_code", ExitCode(execution)),
        ("signal", execution.Signal == 0 ? "" : execution.Signal.ToString(CultureInfo.InvariantCulture)),
        ("error", execution.Error),
        ("tty", execution.Tty ? "true" : "false"),
        ("created_at", ApiText.Time(execution.CreatedAt)),
        ("started_at", ApiText.Time(execution.StartedAt)),
        ("finished_at", ApiText.Time(execution.FinishedAt)),
    ]);

    // Until the command finishes its exit code is not known, and 0 would read as success.
    private static string ExitCode(Execution execution) =>
        execution.Status is ExecutionStatus.Queued or ExecutionStatus.Running or ExecutionStatus.Unspecified
            ? ""
            : execution.ExitCode.ToString(CultureInfo.InvariantCulture);
}
