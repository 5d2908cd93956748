using System.Globalization;
using Cleanroom.Api.V1;
using Cleanroom.Escaping;

namespace Cleanroom.Cli.Rendering;

/// <summary>
/// How executions read in <c>execution ls</c>, <c>execution inspect</c> and <c>status</c>. Commands and errors came
/// from API clients and guests: they are escaped and cut wherever they are shown.
/// </summary>
internal static class ExecutionViews
{
    public static readonly IReadOnlyList<string> TableHeaders = ["ID", "STATUS", "EXIT", "CREATED", "COMMAND"];

    public static readonly IReadOnlyList<string> AcrossSandboxesHeaders = ["ID", "SANDBOX", "STATUS", "EXIT", "CREATED", "COMMAND"];

    // A table row stays one readable line; inspect and status show more.
    private const int TableCommandLength = 120;

    /// <summary>One row per execution; with <paramref name="withSandbox"/> (a list across sandboxes) a SANDBOX column.</summary>
    public static void WriteTable(TextWriter output, OutputStyle style, IEnumerable<Execution> executions, bool withSandbox = false)
    {
        var rows = executions
            .Select(e =>
            {
                var cells = new List<Cell>
                {
                    e.ExecutionId,
                    new(ApiText.Status(e.Status), ApiText.StatusColor(e.Status)),
                    ExitCode(e),
                    ApiText.Time(e.CreatedAt ?? e.StartedAt),
                    ApiText.Command(e.Command, TableCommandLength),
                };
                if (withSandbox)
                {
                    cells.Insert(1, e.SandboxId);
                }

                return (IReadOnlyList<Cell>)cells;
            })
            .ToList();
        TableWriter.Write(output, style, withSandbox ? AcrossSandboxesHeaders : TableHeaders, rows);
    }

    public static void WriteInspect(TextWriter output, Execution execution) => KeyValueWriter.Write(output,
    [
        ("execution_id", execution.ExecutionId),
        ("sandbox_id", execution.SandboxId),
        ("status", ApiText.Status(execution.Status)),
        ("command", ApiText.Command(execution.Command)),
        ("exit_code", ExitCode(execution)),
        ("signal", execution.Signal == 0 ? "" : execution.Signal.ToString(CultureInfo.InvariantCulture)),
        ("error", UntrustedText.Escape(execution.Error)),
        ("tty", execution.Tty ? "true" : "false"),
        ("created_at", ApiText.Time(execution.CreatedAt)),
        ("started_at", ApiText.Time(execution.StartedAt)),
        ("finished_at", ApiText.Time(execution.FinishedAt)),
    ]);

    /// <summary>
    /// <c>status</c>: a short summary of one run for people (aligned <c>label: value</c> lines; the outcome coloured
    /// when colour is on), saying how it ended, how long it took and where its output is.
    /// </summary>
    public static void WriteStatus(TextWriter output, OutputStyle style, Execution execution, DateTimeOffset now)
    {
        var lines = new List<(string Label, string Value)>
        {
            ("execution", execution.ExecutionId),
            ("sandbox", execution.SandboxId),
            ("command", ApiText.Command(execution.Command)),
            ("status", Colorize(Outcome(execution), execution.Status, style.Color)),
            ("created", ApiText.Time(execution.CreatedAt)),
            ("started", ApiText.Time(execution.StartedAt)),
            ("finished", Finished(execution, now)),
            ("output", "on the daemon, read with ExecutionService.StreamExecution, until the sandbox is removed or the output retention passes"),
        };
        if (execution.Error.Length > 0)
        {
            lines.Add(("error", UntrustedText.Escape(execution.Error)));
        }

        var width = lines.Max(l => l.Label.Length) + 1;
        foreach (var (label, value) in lines.Where(l => l.Value.Length > 0))
        {
            output.WriteLine($"{(label + ":").PadRight(width)} {value}");
        }
    }

    /// <summary>"failed, exit code 2", "canceled by signal 15 (exit code 143)", "running".</summary>
    private static string Outcome(Execution execution)
    {
        var status = ApiText.Status(execution.Status);
        var exit = ExitCode(execution);
        return exit.Length == 0 ? status
            : execution.Signal != 0 ? string.Create(CultureInfo.InvariantCulture, $"{status} by signal {execution.Signal} (exit code {exit})")
            : $"{status}, exit code {exit}";
    }

    /// <summary>The finish time and how long the run took, or for a run still going, how long it has run so far.</summary>
    private static string Finished(Execution execution, DateTimeOffset now)
    {
        var started = execution.StartedAt ?? execution.CreatedAt;
        if (execution.FinishedAt is { } finished)
        {
            return started is null ? ApiText.Time(finished) : $"{ApiText.Time(finished)} (took {ApiText.Duration(finished.ToDateTimeOffset() - started.ToDateTimeOffset())})";
        }

        return started is null || ExitCode(execution).Length > 0 ? "" : $"not yet (running for {ApiText.Duration(now - started.ToDateTimeOffset())})";
    }

    private static string Colorize(string text, ExecutionStatus status, bool color)
    {
        var code = status switch
        {
            ExecutionStatus.Succeeded => "32",
            ExecutionStatus.Queued or ExecutionStatus.Running => "33",
            ExecutionStatus.Failed or ExecutionStatus.TimedOut => "31",
            _ => null,
        };
        return color && code is not null ? $"\u001b[{code}m{text}\u001b[0m" : text;
    }

    // Until the command finishes its exit code is not known, and 0 would read as success.
    private static string ExitCode(Execution execution) =>
        execution.Status is ExecutionStatus.Queued or ExecutionStatus.Running or ExecutionStatus.Unspecified
            ? ""
            : execution.ExitCode.ToString(CultureInfo.InvariantCulture);
}
