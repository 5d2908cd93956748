namespace Cleanroom.Daemon.Tests;

/// <summary>A fact that needs <c>node</c> and <c>npm</c> on PATH, skipped (saying so) when they are absent.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class NodeFactAttribute : FactAttribute
{
    public NodeFactAttribute()
    {
        if (NodeTools.Find("node") is null || NodeTools.Find("npm") is null)
        {
            Skip = "node and npm are not on PATH: the connect-node conformance client cannot run";
        }
    }
}
