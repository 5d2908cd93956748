using Cleanroom.Policy.Parsing;
using Cleanroom.Policy.Text;

namespace Cleanroom.Policy.Schema;

/// <summary>
/// Reads <c>sandbox.resources</c>. The bounds only catch typos (a memory floor of 8KiB, a disk floor of 8PiB);
/// whether a host can actually provide the floors is decided when the sandbox is created.
/// </summary>
internal static class ResourcesSectionReader
{
    public const int MaxVcpus = 256;
    public const long MinMemory = 64L << 20;
    public const long MaxMemory = 4L << 40;
    public const long MinDisk = 512L << 20;
    public const long MaxDisk = 64L << 40;

    public static ResourceFloors Read(YamlNode node, KeyPath path, SchemaReader reader)
    {
        var mapping = reader.Mapping(node, path, "a mapping with vcpus, memory and disk");
        if (mapping is null)
        {
            return ResourceFloors.None;
        }

        var keys = reader.Keys(mapping, path, "vcpus", "memory", "disk");
        var vcpus = keys.TryGetValue("vcpus", out var v)
            ? reader.Integer(v.Value, path.Key("vcpus"), 1, MaxVcpus, $"a whole number of CPUs from 1 to {MaxVcpus}")
            : null;
        var memory = keys.TryGetValue("memory", out var m) ? ReadSize(m.Value, path.Key("memory"), reader, MinMemory, MaxMemory) : null;
        var disk = keys.TryGetValue("disk", out var d) ? ReadSize(d.Value, path.Key("disk"), reader, MinDisk, MaxDisk) : null;
        return new ResourceFloors((int?)vcpus, memory, disk);
    }

    private static long? ReadSize(YamlNode node, KeyPath path, SchemaReader reader, long min, long max)
    {
        var range = $"{ByteSize.Format(min)} to {ByteSize.Format(max)}";
        if (node is ScalarNode scalar && scalar.TryGetInteger(out _))
        {
            reader.Error(PolicyErrorKind.InvalidSize, node, path, "a size needs a unit; a bare number is ambiguous", ByteSize.Expected);
            return null;
        }

        var text = reader.String(node, path, ByteSize.Expected);
        if (text is null)
        {
            return null;
        }

        if (!ByteSize.TryParse(text, out var bytes))
        {
            reader.Error(PolicyErrorKind.InvalidSize, node, path, "this is not a size", ByteSize.Expected);
            return null;
        }

        if (bytes < min || bytes > max)
        {
            reader.Error(PolicyErrorKind.OutOfRange, node, path, $"the size must be from {range}", $"a size from {range}");
            return null;
        }

        return bytes;
    }
}
