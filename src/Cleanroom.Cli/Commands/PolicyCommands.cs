using System.CommandLine;
using Cleanroom.Cli.Policy;

namespace Cleanroom.Cli.Commands;

/// <summary>
/// <c>cleanroom policy validate|show|init</c>. These read the repository's policy locally and never talk to the
/// daemon; the logic, output and exit codes live in the command classes in Cli/Policy, so this file only maps
/// flags to their options.
/// </summary>
internal sealed class PolicyCommands : Command
{
    public PolicyCommands(CliContext context)
        : base("policy", "Validate, show or create the repository's cleanroom.yaml")
    {
        Add(Validate(context));
        Add(Show(context));
        Add(Init(context));
    }

    private static Command Validate(CliContext context)
    {
        var (chdir, policy, json) = (ChdirOption(), PolicyFileOption(), new FlagOption("--json", "Print the result as JSON"));
        var command = new Command("validate", "Check the policy and print its hash and what it allows (exit 1 if invalid)")
        {
            chdir, policy, json,
        };
        command.SetAction(parse => PolicyValidateCommand.Run(
            new PolicyCommandOptions { Directory = parse.GetValue(chdir), PolicyFile = parse.GetValue(policy), Json = parse.GetValue(json) },
            context.Out,
            context.Error));
        return command;
    }

    private static Command Show(CliContext context)
    {
        var (chdir, policy, json) = (ChdirOption(), PolicyFileOption(), new FlagOption("--json", "Print the compiled payload sent to the daemon"));
        var command = new Command("show", "Print the compiled policy")
        {
            chdir, policy, json,
        };
        command.SetAction(parse => PolicyShowCommand.Run(
            new PolicyCommandOptions { Directory = parse.GetValue(chdir), PolicyFile = parse.GetValue(policy), Json = parse.GetValue(json) },
            context.Out,
            context.Error));
        return command;
    }

    private static Command Init(CliContext context)
    {
        var chdir = ChdirOption();
        var path = new Option<string?>("--path") { Description = "Where to write the file (default: cleanroom.yaml in the repository)" };
        var force = new FlagOption("--force", "Overwrite an existing policy");
        var image = new Option<string?>("--image") { Description = "The image reference to start from (pin it with @sha256:…)" };
        var command = new Command("init", "Write a commented starter cleanroom.yaml")
        {
            chdir, path, force, image,
        };
        command.SetAction(parse => PolicyInitCommand.Run(
            new PolicyInitOptions
            {
                Directory = parse.GetValue(chdir),
                Path = parse.GetValue(path),
                Force = parse.GetValue(force),
                ImageRef = parse.GetValue(image),
            },
            context.Out,
            context.Error));
        return command;
    }

    private static Option<string?> ChdirOption() =>
        new("--chdir", "-c") { Description = "The repository directory (default: the working directory)" };

    private static Option<string?> PolicyFileOption() =>
        new("--policy") { Description = "Read this policy file instead of discovering cleanroom.yaml" };
}
