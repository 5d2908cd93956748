using System.Formats.Tar;
using System.Text;
using Cleanroom.Escaping;
using Cleanroom.Oci;
using Microsoft.Win32.SafeHandles;

namespace Cleanroom.Images.Layers;

/// <summary>
/// Ownership, mode, extended attributes and times from a tar entry, applied in the order the kernel requires:
/// chown clears setuid/setgid and file capabilities, so owner first, then attributes, then mode.
/// </summary>
internal static class EntryMetadata
{
    private const string XattrRecordPrefix = "SCHILY.xattr.";
    private const uint PermissionBits = 0xFFF; // 07777: permissions plus setuid, setgid and sticky
    private const uint AccessBits = 0x1FF; // 0777: permissions only

    public static uint ModeOf(TarEntry entry, EntryRules rules) => (uint)entry.Mode & (rules.KeepSpecialModeBits ? PermissionBits : AccessBits);

    /// <summary>For a regular file just written through <paramref name="file"/>: no path lookups at all.</summary>
    public static void Apply(SafeFileHandle file, string host, TarEntry entry, EntryRules rules)
    {
        var (uid, gid) = OwnerOf(entry, rules);
        LibC.ChangeOwner(file, uid, gid, host);
        foreach (var (name, value) in ExtendedAttributesOf(entry, rules))
        {
            ThrowUnlessIgnorable(LibC.TrySetExtendedAttribute(file, name, value), name, NodeKind.RegularFile);
        }

        LibC.ChangeMode(file, ModeOf(entry, rules), host);
        LibC.SetTimes(file, entry.ModificationTime, host);
    }

    /// <summary>
    /// For a node this applier just made or found at <paramref name="host"/> (whose parents are real directories).
    /// Symlinks have no mode of their own; directories get their time later (<paramref name="setTime"/> false).
    /// </summary>
    public static void Apply(string host, TarEntry entry, NodeKind kind, bool setTime, EntryRules rules)
    {
        var isSymlink = kind == NodeKind.Symlink;
        var (uid, gid) = OwnerOf(entry, rules);
        LibC.ChangeOwner(host, uid, gid);
        foreach (var (name, value) in ExtendedAttributesOf(entry, rules))
        {
            ThrowUnlessIgnorable(LibC.TrySetExtendedAttribute(host, name, value), name, kind);
        }

        if (!isSymlink)
        {
            LibC.ChangeMode(host, ModeOf(entry, rules));
        }

        if (setTime)
        {
            LibC.SetTimes(host, entry.ModificationTime);
        }
    }

    private static (int Uid, int Gid) OwnerOf(TarEntry entry, EntryRules rules) => rules.Owner is { } owner ? owner
        : entry.Uid < 0 || entry.Gid < 0 ? throw new EntryRejectedException($"has a negative owner ({entry.Uid}:{entry.Gid})")
        : (entry.Uid, entry.Gid);

    /// <summary>
    /// The PAX "SCHILY.xattr." records worth keeping: user attributes and file capabilities. Host-specific ones
    /// (security.selinux, trusted.*, system.*) describe the machine that built the layer, not the image.
    /// </summary>
    private static IEnumerable<(string Name, byte[] Value)> ExtendedAttributesOf(TarEntry entry, EntryRules rules)
    {
        if (entry is not PaxTarEntry pax || !rules.KeepExtendedAttributes)
        {
            yield break;
        }

        foreach (var (key, value) in pax.ExtendedAttributes)
        {
            if (!key.StartsWith(XattrRecordPrefix, StringComparison.Ordinal))
            {
                continue;
            }

            var name = key[XattrRecordPrefix.Length..];
            // TarReader decodes record values as UTF-8, replacing bytes that are not; such a value (binary, as
            // capabilities usually are) can no longer be reproduced, and a mangled one is worse than none.
            if ((name.StartsWith("user.", StringComparison.Ordinal) || name == "security.capability") && !value.Contains('\uFFFD', StringComparison.Ordinal))
            {
                yield return (name, Encoding.UTF8.GetBytes(value));
            }
        }
    }

    /// <summary>
    /// Unsupported attributes are skipped, and so are user attributes on symlinks and device nodes, which Linux
    /// refuses with EPERM; other failures are the layer's fault.
    /// </summary>
    private static void ThrowUnlessIgnorable(int errno, string name, NodeKind kind)
    {
        if (errno == 0 || errno == LibC.ENOTSUP || (errno == LibC.EPERM && kind is NodeKind.Symlink or NodeKind.Special))
        {
            return;
        }

        throw new EntryRejectedException($"has extended attribute {UntrustedText.Quote(name)}, which cannot be set: {LibC.Describe(errno)}");
    }
}
