using Cleanroom.Guest.Wire.Framing;

namespace Cleanroom.Guest.Wire.Messages;

/// <summary>One process a host takes over: its stream and how many output bytes (stdout and stderr together) it holds.</summary>
public sealed record ResumeEntry(uint StreamId, long Delivered);

/// <summary>The processes of an earlier connection that a new host takes over (see <see cref="FrameType.Resume"/>).</summary>
public sealed record ResumeMessage(IReadOnlyList<ResumeEntry> Entries)
{
    public byte[] Encode()
    {
        var writer = new PayloadWriter().WriteUInt32((uint)Entries.Count);
        foreach (var entry in Entries)
        {
            writer.WriteUInt32(entry.StreamId).WriteInt64(entry.Delivered);
        }

        return writer.ToArray();
    }

    public static ResumeMessage Decode(ReadOnlySpan<byte> payload, int maxEntries)
    {
        var reader = new PayloadReader(payload, "resume");
        var count = reader.ReadUInt32();
        if (count > maxEntries)
        {
            throw new WireProtocolException($"resume: {count} streams, more than the {maxEntries} a connection may have");
        }

        var entries = new List<ResumeEntry>((int)count);
        for (var i = 0; i < count; i++)
        {
            var entry = new ResumeEntry(reader.ReadUInt32(), reader.ReadInt64());
            if (entry.StreamId == 0 || entry.Delivered < 0 || entries.Any(e => e.StreamId == entry.StreamId))
            {
                throw new WireProtocolException($"resume: stream {entry.StreamId} with {entry.Delivered} bytes is not a valid entry (zero, negative or repeated)");
            }

            entries.Add(entry);
        }

        reader.EnsureEnd();
        return new ResumeMessage(entries);
    }
}

/// <summary>
/// The guest's answer for one stream of a <see cref="ResumeMessage"/>: taken over (with its pid, 0 if not started yet)
/// or not, and why not.
/// </summary>
public sealed record ResumedEntry(uint StreamId, bool Found, int Pid, string Reason)
{
    public const int MaxReasonBytes = 512;
}

/// <summary>The answer to <see cref="FrameType.Resume"/>, one entry per requested stream in the same order.</summary>
public sealed record ResumedMessage(IReadOnlyList<ResumedEntry> Entries)
{
    public byte[] Encode()
    {
        var writer = new PayloadWriter().WriteUInt32((uint)Entries.Count);
        foreach (var entry in Entries)
        {
            writer.WriteUInt32(entry.StreamId).WriteByte(entry.Found ? (byte)1 : (byte)0).WriteInt32(entry.Pid).WriteString(entry.Reason);
        }

        return writer.ToArray();
    }

    public static ResumedMessage Decode(ReadOnlySpan<byte> payload, int maxEntries)
    {
        var reader = new PayloadReader(payload, "resumed");
        var count = reader.ReadUInt32();
        if (count > maxEntries)
        {
            throw new WireProtocolException($"resumed: {count} streams, more than the {maxEntries} asked for");
        }

        var entries = new List<ResumedEntry>((int)count);
        for (var i = 0; i < count; i++)
        {
            var id = reader.ReadUInt32();
            var found = reader.ReadByte();
            var pid = reader.ReadInt32();
            var reason = reader.ReadString(ResumedEntry.MaxReasonBytes);
            if (found > 1 || pid < 0)
            {
                throw new WireProtocolException($"resumed: stream {id} has out-of-range values (found {found}, pid {pid})");
            }

            entries.Add(new ResumedEntry(id, found == 1, pid, reason));
        }

        reader.EnsureEnd();
        return new ResumedMessage(entries);
    }
}
