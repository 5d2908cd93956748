using System.Collections.Immutable;
using Cleanroom.Policy.Parsing;

namespace Cleanroom.Policy.Schema;

/// <summary>Reads a command: a non-blank string (a shell script) or a non-empty argv list.</summary>
internal static class CommandReader
{
    private const string Expected = "a shell command string, or an argv list such as [npm, ci]";

    public static CommandSpec? Read(YamlNode node, KeyPath path, SchemaReader reader)
    {
        switch (node)
        {
            case ScalarNode { IsString: true } scalar:
                if (string.IsNullOrWhiteSpace(scalar.Value))
                {
                    reader.Error(PolicyErrorKind.EmptyCommand, node, path, "the command is blank", Expected);
                    return null;
                }

                return CommandSpec.Shell(scalar.Value);
            case SequenceNode sequence:
                return ReadArgv(sequence, path, reader);
            default:
                reader.Error(PolicyErrorKind.WrongType, node, path, "this must be a command", Expected);
                return null;
        }
    }

    private static CommandSpec? ReadArgv(SequenceNode sequence, KeyPath path, SchemaReader reader)
    {
        if (sequence.Items.IsEmpty)
        {
            reader.Error(PolicyErrorKind.EmptyCommand, sequence, path, "the argv list is empty", Expected);
            return null;
        }

        var argv = ImmutableArray.CreateBuilder<string>(sequence.Items.Length);
        var ok = true;
        for (var i = 0; i < sequence.Items.Length; i++)
        {
            var word = reader.Text(sequence.Items[i], path.Index(i), "a single word of the command");
            ok &= word is not null;
            argv.Add(word ?? string.Empty);
        }

        if (ok && string.IsNullOrWhiteSpace(argv[0]))
        {
            reader.Error(PolicyErrorKind.EmptyCommand, sequence.Items[0], path.Index(0), "the program name is blank", Expected);
            return null;
        }

        return ok ? CommandSpec.Exec(argv.MoveToImmutable()) : null;
    }
}
