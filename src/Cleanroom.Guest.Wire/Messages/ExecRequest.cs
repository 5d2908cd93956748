using Cleanroom.Guest.Wire.Framing;

namespace Cleanroom.Guest.Wire.Messages;

/// <summary>What to run in the guest. Environment entries are <c>KEY=VALUE</c> strings, as in execve.</summary>
public sealed record ExecRequest
{
    private const int TtyFlag = 0x01;
    private const int ToolFlag = 0x02;

    public required IReadOnlyList<string> Argv { get; init; }

    public IReadOnlyList<string> Env { get; init; } = [];

    /// <summary>Working directory inside the guest; empty means the agent's default.</summary>
    public string Cwd { get; init; } = "";

    /// <summary>User name or numeric <c>uid[:gid]</c>; empty means root.</summary>
    public string User { get; init; } = "";

    public bool Tty { get; init; }

    /// <summary>
    /// Run one of the agent's own built-in tools instead of a program: <see cref="Argv"/> are the tool's arguments,
    /// <c>Argv[0]</c> the tool's name (<c>archive</c>, <c>extract</c>, <c>stat</c>, <c>remove</c>, <c>workspace-changes</c>).
    /// The tools work in any guest image, even one without a shell or tar. Never together with <see cref="Tty"/>.
    /// </summary>
    public bool Tool { get; init; }

    public ushort Cols { get; init; }

    public ushort Rows { get; init; }

    public byte[] Encode() => new PayloadWriter()
        .WriteStringList(Argv)
        .WriteStringList(Env)
        .WriteString(Cwd)
        .WriteString(User)
        .WriteByte((byte)((Tty ? TtyFlag : 0) | (Tool ? ToolFlag : 0)))
        .WriteUInt16(Cols)
        .WriteUInt16(Rows)
        .ToArray();

    public static ExecRequest Decode(ReadOnlySpan<byte> payload, WireLimits limits)
    {
        var reader = new PayloadReader(payload, "exec");
        var argv = reader.ReadStringList(limits.MaxListEntries);
        var env = reader.ReadStringList(limits.MaxListEntries);
        var cwd = reader.ReadString();
        var user = reader.ReadString();
        var flags = reader.ReadByte();
        var cols = reader.ReadUInt16();
        var rows = reader.ReadUInt16();
        reader.EnsureEnd();
        if (argv.Count == 0 || argv[0].Length == 0)
        {
            throw new WireProtocolException("exec: empty argv");
        }

        if (argv.Any(a => a.Contains('\0', StringComparison.Ordinal)) || env.Any(e => e.Contains('\0', StringComparison.Ordinal) || !e.Contains('=', StringComparison.Ordinal)))
        {
            throw new WireProtocolException("exec: argv and env entries must not contain NUL; env entries must be KEY=VALUE");
        }

        if ((flags & ~(TtyFlag | ToolFlag)) != 0)
        {
            throw new WireProtocolException($"exec: unknown flags 0x{flags:x2}");
        }

        var tty = (flags & TtyFlag) != 0;
        var tool = (flags & ToolFlag) != 0;
        if (tty && tool)
        {
            // The tools speak binary on stdin/stdout: a terminal would mangle it.
            throw new WireProtocolException("exec: a built-in tool cannot run on a terminal");
        }

        return new ExecRequest { Argv = argv, Env = env, Cwd = cwd, User = user, Tty = tty, Tool = tool, Cols = cols, Rows = rows };
    }
}
