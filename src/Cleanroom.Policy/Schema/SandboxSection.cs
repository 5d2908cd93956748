namespace Cleanroom.Policy.Schema;

/// <summary>The parts of the <c>sandbox</c> block, as read, before they are assembled into a compiled policy.</summary>
internal sealed record SandboxSection(
    ImageReference Image,
    ResourceFloors Resources,
    NetworkPolicy Network,
    bool DockerRequired,
    SetupBlockGroup Dependencies,
    SetupBlockGroup Services,
    CommandSpec? RunBefore);
