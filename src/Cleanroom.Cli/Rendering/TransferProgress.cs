using Spectre.Console;

namespace Cleanroom.Cli.Rendering;

/// <summary>
/// Progress of an upload (<c>image import</c>): a bar with bytes sent on a terminal stderr, nothing otherwise.
/// The total is unknown when the bytes come from a pipe; the bar then only counts.
/// </summary>
internal sealed class TransferProgress
{
    private readonly ProgressTask? _task;
    private readonly bool _knownTotal;

    private TransferProgress(ProgressTask? task, bool knownTotal)
    {
        _task = task;
        _knownTotal = knownTotal;
    }

    public static async Task<T> RunAsync<T>(CliContext context, string description, long? totalBytes, Func<TransferProgress, Task<T>> body)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(body);
        if (!context.StderrIsTerminal)
        {
            return await body(new TransferProgress(null, knownTotal: false));
        }

        var progress = StderrConsole.Progress(context,
            StderrConsole.Description(), new ProgressBarColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new SpinnerColumn());
        return await progress.StartAsync(display =>
        {
            var task = display.AddTask(Markup.Escape(description), maxValue: Math.Max(1, totalBytes ?? 1));
            task.IsIndeterminate = totalBytes is null;
            return body(new TransferProgress(task, totalBytes is not null));
        });
    }

    public void Sent(long bytes)
    {
        if (_task is null)
        {
            return;
        }

        if (!_knownTotal)
        {
            _task.MaxValue = Math.Max(1, bytes);
        }

        _task.Value = bytes;
    }

    /// <summary>Everything is sent and the daemon is working on it: the label says what it is doing.</summary>
    public void Waiting(string description)
    {
        if (_task is not null)
        {
            _task.Description = Markup.Escape(description);
            _task.IsIndeterminate = true;
        }
    }
}
