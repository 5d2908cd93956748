using Cleanroom.Daemon.State;
using Cleanroom.Vm;

namespace Cleanroom.Daemon.Sandboxes;

/// <summary>How one sandbox's VM came up: warm or cold, why, and the steps of a warm start.</summary>
internal sealed class SandboxStart(VmSpec spec, string accelerator)
{
    public VmSpec Spec { get; } = spec;

    public string Accelerator { get; } = accelerator;

    public bool Warm { get; set; }

    /// <summary>The template restored from, or why the sandbox boots cold; empty when warm starts are off.</summary>
    public string Note { get; set; } = "";

    public List<BootPhase> Phases { get; } = [];
}
