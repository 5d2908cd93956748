namespace Cleanroom.Daemon.Tests;

/// <summary>Tests that must not share the process with others while they run (heap measurements).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialGroup
{
    public const string Name = "serial";
}
