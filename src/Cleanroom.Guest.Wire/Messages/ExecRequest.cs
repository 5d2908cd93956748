using Cleanroom.Guest.Wire.Framing;

namespace Cleanroom.Guest.Wire.Messages;

/// <summary>What to run in the guest. Environment entries are <c>KEY=VALUE</c> strings, as in execve.</summary>
public sealed record ExecRequest
{
    public required IReadOnlyList<string> Argv { get; init; }

    public IReadOnlyList<string> Env { get; init; } = [];

    /// <summary>Working directory inside the guest; empty means the agent's default.</summary>
    public string Cwd { get; init; } = "";

    /// <summary>User name or numeric <c>uid[:gid]</c>; empty means root.</summary>
    public string User { get; init; } = "";

    public bool Tty { get; init; }

    public ushort Cols { get; init; }

    public ushort Rows { get; init; }

    public byte[] Encode() => new PayloadWriter()
        .WriteStringList(Argv)
        .WriteStringList(Env)
        .WriteString(Cwd)
        .WriteString(User)
        .WriteByte(Tty ? (byte)1 : (byte)0)
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

        if ((flags & ~1) != 0)
        {
            throw new WireProtocolException($"exec: unknown flags 0x{flags:x2}");
        }

        return new ExecRequest { Argv = argv, Env = env, Cwd = cwd, User = user, Tty = (flags & 1) != 0, Cols = cols, Rows = rows };
    }
}
