using Cleanroom.Api.V1;

namespace Cleanroom.Cli.Rendering;

/// <summary>Shows a pull's progress events on stderr: live bars on a terminal, a few plain lines otherwise.</summary>
internal abstract class PullProgressView
{
    public static PullProgressView For(CliContext context, string reference)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.StderrIsTerminal ? new LivePullProgress(context, reference) : new PhaseLinePullProgress(context, reference);
    }

    /// <summary>Words for a phase, as both views show it.</summary>
    public static string Describe(PullPhase phase) => phase switch
    {
        PullPhase.Resolving => "resolving",
        PullPhase.Downloading => "downloading",
        PullPhase.Building => "building rootfs",
        PullPhase.Done => "done",
        _ => "starting",
    };

    /// <summary>Shows every event as it arrives; returns the last one (null when there was none).</summary>
    public abstract Task<PullImageEvent?> FollowAsync(IAsyncEnumerable<PullImageEvent> events);
}
