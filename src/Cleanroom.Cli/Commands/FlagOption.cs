using System.CommandLine;

namespace Cleanroom.Cli.Commands;

/// <summary>
/// An on/off switch that never takes a value. A plain <c>Option&lt;bool&gt;</c> would swallow a following
/// "true" or "false", so <c>cleanroom exec --keep true</c> would lose its command.
/// </summary>
internal class FlagOption : Option<bool>
{
    public FlagOption(string name, string description, params string[] aliases)
        : base(name, aliases)
    {
        Description = description;
        Arity = ArgumentArity.Zero;
    }
}
