namespace Cleanroom.Daemon.Tests.Fakes;

/// <summary>What answers on a fake VM's agent channel.</summary>
internal enum GuestMode
{
    /// <summary>The real <c>AgentServer</c> with the <see cref="ScriptedGuest"/> programs.</summary>
    Agent,

    /// <summary>Nothing: the test gets the guest end of the channel and writes raw frames (a hostile guest).</summary>
    Raw,
}
