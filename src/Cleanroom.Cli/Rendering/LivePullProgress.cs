using Cleanroom.Api.V1;
using Spectre.Console;

namespace Cleanroom.Cli.Rendering;

/// <summary>
/// Pull progress on a terminal: an overall bar whose label is the phase, and one bar per layer with bytes
/// downloaded out of its size. The display clears itself when the pull ends.
/// </summary>
internal sealed class LivePullProgress(CliContext context, string reference) : PullProgressView
{
    public override Task<PullImageEvent?> FollowAsync(IAsyncEnumerable<PullImageEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var progress = StderrConsole.Progress(context,
            StderrConsole.Description(), new ProgressBarColumn(), new KnownSizeColumn(), new SpinnerColumn());
        return progress.StartAsync(async display =>
        {
            var overall = display.AddTask(Label(PullPhase.Resolving), maxValue: 1);
            overall.IsIndeterminate = true;
            var layers = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
            PullImageEvent? last = null;
            await foreach (var update in events)
            {
                last = update;
                Show(display, overall, layers, update);
            }

            return last;
        });
    }

    private void Show(ProgressContext display, ProgressTask overall, Dictionary<string, ProgressTask> layers, PullImageEvent update)
    {
        foreach (var layer in update.Layers)
        {
            if (!layers.TryGetValue(layer.Digest, out var bar))
            {
                bar = display.AddTask("  " + Markup.Escape(ApiText.ShortDigest(layer.Digest)), maxValue: Math.Max(1, layer.SizeBytes));
                layers.Add(layer.Digest, bar);
            }

            bar.MaxValue = Math.Max(1, layer.SizeBytes);
            bar.Value = layer.Applied ? bar.MaxValue : layer.DownloadedBytes;
        }

        overall.Description = Label(update.Phase);
        var total = update.Layers.Sum(l => l.SizeBytes);
        // Downloads have a size to fill; resolving and building do not, so they show as an animated bar.
        overall.IsIndeterminate = (update.Phase != PullPhase.Downloading && update.Phase != PullPhase.Done) || total == 0;
        if (total > 0)
        {
            overall.MaxValue = total;
            overall.Value = update.Phase == PullPhase.Done ? total : update.Layers.Sum(l => l.DownloadedBytes);
        }
    }

    private string Label(PullPhase phase) => Markup.Escape($"{Describe(phase)} {reference}");
}
