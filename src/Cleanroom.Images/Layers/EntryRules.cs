namespace Cleanroom.Images.Layers;

/// <summary>
/// What an <see cref="EntryApplier"/> takes over from an entry besides its name and content. Image layers keep
/// everything, since they describe a whole system. Other hostile archives unpacked on the host (a sandbox's changes
/// copied into a user's repository, <c>cp</c> out of a sandbox) must not be able to grant anything there: no device
/// nodes, no setuid programs or file capabilities, no foreign owners, and no path that goes through a symlink.
/// </summary>
internal sealed record EntryRules
{
    /// <summary>The OCI layer rules: owners, modes, xattrs and device nodes as the layer says; symlinks followed inside the root.</summary>
    public static EntryRules ImageLayers { get; } = new();

    /// <summary>
    /// True: a symlink met among an entry's parents is followed, confined to the root (the guest's view of a layer).
    /// False: such an entry is refused, so nothing is ever written through a symlink, even one the archive made.
    /// </summary>
    public bool FollowSymlinks { get; init; } = true;

    /// <summary>False refuses character and block devices and FIFOs.</summary>
    public bool AllowSpecialFiles { get; init; } = true;

    /// <summary>False drops the setuid, setgid and sticky bits from every mode.</summary>
    public bool KeepSpecialModeBits { get; init; } = true;

    /// <summary>False ignores every extended attribute the archive carries (file capabilities included).</summary>
    public bool KeepExtendedAttributes { get; init; } = true;

    /// <summary>When set, every node gets this owner instead of the entry's.</summary>
    public (int Uid, int Gid)? Owner { get; init; }
}
