using Cleanroom.Api.V1;

namespace Cleanroom.Cli.Rendering;

/// <summary>
/// Pull progress for a log file or CI output: one <c>cleanroom: ...</c> line when the pull starts downloading and
/// one when it starts building, never a line per event. Resolving and finishing say nothing, so the common case
/// in CI — an image already in the store — adds no output at all.
/// </summary>
internal sealed class PhaseLinePullProgress(CliContext context, string reference) : PullProgressView
{
    public override async Task<PullImageEvent?> FollowAsync(IAsyncEnumerable<PullImageEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        PullImageEvent? last = null;
        await foreach (var update in events)
        {
            if (update.Phase != last?.Phase && Line(update) is { } line)
            {
                context.Complain(line);
            }

            last = update;
        }

        return last;
    }

    private string? Line(PullImageEvent update)
    {
        var count = update.Layers.Count;
        return update.Phase switch
        {
            PullPhase.Downloading => $"{Describe(update.Phase)} {reference}: {count} {(count == 1 ? "layer" : "layers")}, {ApiText.Bytes(update.Layers.Sum(l => l.SizeBytes))}",
            PullPhase.Building => $"{Describe(update.Phase)} for {reference}",
            _ => null,
        };
    }
}
