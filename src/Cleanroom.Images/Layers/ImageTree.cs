using Cleanroom.Escaping;
using Cleanroom.Oci;

namespace Cleanroom.Images.Layers;

/// <summary>
/// The image root on the host and every path operation on it, confined to it. Layers may plant symlinks, and later
/// entries may name paths through them ("evil/pwned" after "evil -> ../../.."); a plain path join would then write on
/// the host. So parents are walked one component at a time with lstat, and symlinks are resolved the way the guest
/// will see them: absolute targets start again at the image root, relative ones at the link's directory. A target
/// that climbs above the root with ".." is refused rather than clamped, since no honest image needs it.
/// </summary>
/// <remarks>
/// The walk checks and then acts on paths, which is only sound because nothing but this applier writes under the
/// root while it runs (the caller stages into a private, freshly made directory); the layer content is the only
/// adversary, and it acts solely through the entries applied here in order.
/// </remarks>
/// <param name="root">The image root on the host: a full path without a trailing slash.</param>
/// <param name="followSymlinks">False refuses any path whose parents include a symlink instead of following it.</param>
internal sealed class ImageTree(string root, bool followSymlinks = true)
{
    /// <summary>As Linux's MAXSYMLINKS: more than this many hops is a loop, or close enough to one.</summary>
    public const int MaxSymlinkHops = 40;

    private const uint DirectoryMode = 0x1ED; // 0755

    private readonly Stack<PendingComponent> _pending = new();
    private string? _cachedParentKey;
    private string _cachedParentHost = "";
    private string _cachedParentRelative = "";

    public string Root { get; } = root;

    /// <summary>
    /// Bumped whenever a directory or symlink is removed, the only changes that can make an earlier resolution wrong
    /// (new directories and files only ever appear where nothing was).
    /// </summary>
    public int Generation { get; private set; }

    /// <summary>
    /// Resolves the parents of <paramref name="path"/> (normalised, not the root). Missing parents are created as real
    /// 0755 directories when <paramref name="createParents"/>; otherwise a missing parent gives null.
    /// </summary>
    public ResolvedPath? Resolve(string path, bool createParents)
    {
        var slash = path.LastIndexOf('/');
        if (slash < 0)
        {
            return new ResolvedPath(HostPath(path), path, Root);
        }

        var parentKey = path.AsSpan(0, slash);
        if (_cachedParentKey is null || !parentKey.SequenceEqual(_cachedParentKey))
        {
            // Entries come grouped by directory, so remembering the last parent saves most walks.
            if (!TryWalk(parentKey, createParents, out var relative))
            {
                return null;
            }

            _cachedParentKey = parentKey.ToString();
            _cachedParentRelative = relative;
            _cachedParentHost = HostPath(relative);
        }

        var name = path.AsSpan(slash + 1);
        var resolvedRelative = parentKey.SequenceEqual(_cachedParentRelative) ? path
            : _cachedParentRelative.Length == 0 ? name.ToString()
            : string.Concat(_cachedParentRelative, "/", name);
        return new ResolvedPath(string.Concat(_cachedParentHost, "/", name), resolvedRelative, _cachedParentHost);
    }

    /// <summary>
    /// The host path of <paramref name="relative"/> if every component of it is a real directory right now, else null.
    /// Used for work deferred to the end of a layer, when earlier resolutions may have gone stale.
    /// </summary>
    public string? FindRealDirectory(string relative)
    {
        if (relative.Length == 0)
        {
            return Root;
        }

        foreach (var range in relative.AsSpan().Split('/'))
        {
            if (LibC.GetKind(HostPath(relative[..range.End])) != NodeKind.Directory)
            {
                return null;
            }
        }

        return HostPath(relative);
    }

    /// <summary>
    /// Sets the deferred directory times of <paramref name="log"/>. When nothing removed a directory or symlink since
    /// they were recorded (<paramref name="pathsStillValid"/>), every recorded path is still the real directory it was;
    /// otherwise each is checked again, so a time is never set through a symlink that replaced a directory later.
    /// </summary>
    public void SetDirectoryTimes(LayerWriteLog log, bool pathsStillValid)
    {
        foreach (var (relative, time) in log.DirectoryTimes)
        {
            var host = pathsStillValid ? HostPath(relative) : FindRealDirectory(relative);
            if (host is not null)
            {
                LibC.SetTimes(host, time);
            }
        }
    }

    public string HostPath(string relative) => relative.Length == 0 ? Root : string.Concat(Root, "/", relative);

    /// <summary>Removes whatever is at <paramref name="target"/>: a directory with everything below it, anything else itself.</summary>
    public void Remove(ResolvedPath target) => RemoveNode(target.Host, LibC.GetKind(target.Host));

    /// <summary>
    /// Applies an opaque whiteout: deletes the children of the directory that lower layers left, keeping
    /// what this layer wrote (and the directories leading to it), which may precede the marker in the same tar.
    /// </summary>
    /// <param name="host">A real directory, as <see cref="ResolvedPath.ParentHost"/> always is.</param>
    /// <param name="relative">The same directory relative to the root.</param>
    public void HideLowerChildren(string host, string relative, LayerWriteLog log)
    {
        if (!log.MarkFreeOfLowerChildren(relative))
        {
            return;
        }

        // Listed and named through libc: a name that is not UTF-8 would be mangled by .NET's directory APIs.
        foreach (var name in LibC.ListDirectory(host))
        {
            var child = string.Concat(host, "/", name);
            var childRelative = relative.Length == 0 ? name : string.Concat(relative, "/", name);
            var kind = LibC.GetKind(child);
            if (!log.WroteAtOrBelow(childRelative))
            {
                RemoveNode(child, kind);
            }
            else if (kind == NodeKind.Directory)
            {
                HideLowerChildren(child, childRelative, log);
            }
        }
    }

    private void RemoveNode(string host, NodeKind kind)
    {
        switch (kind)
        {
            case NodeKind.Missing:
                return;
            case NodeKind.Directory:
                // Symlinks met below are unlinked, never descended through.
                LibC.RemoveTree(host);
                Invalidate();
                return;
            case NodeKind.Symlink:
                LibC.Unlink(host);
                Invalidate();
                return;
            default:
                LibC.Unlink(host);
                return;
        }
    }

    private void Invalidate()
    {
        Generation++;
        _cachedParentKey = null;
    }

    private bool TryWalk(ReadOnlySpan<char> parent, bool create, out string relative)
    {
        _pending.Clear();
        PushComponents(parent, null);
        relative = "";
        var hops = 0;
        while (_pending.TryPop(out var component))
        {
            if (component.Name is "" or ".")
            {
                continue;
            }

            if (component.Name == "..")
            {
                // Names never contain "..", so this came from a symlink target.
                relative = relative.Length > 0
                    ? relative[..Math.Max(0, relative.LastIndexOf('/'))]
                    : throw new EntryRejectedException(component.Via is { } via
                        ? $"goes through symlink {UntrustedText.Quote(via.Link)} whose target {UntrustedText.Quote(via.Target)} escapes the image root"
                        : "climbs out of the image root");
                continue;
            }

            if (component.Via is { } origin && EntryNames.ByteCount(component.Name) > LayerPath.MaxComponentBytes)
            {
                throw new EntryRejectedException($"goes through symlink {UntrustedText.Quote(origin.Link)} whose target has a component longer than {LayerPath.MaxComponentBytes} bytes");
            }

            var next = relative.Length == 0 ? component.Name : string.Concat(relative, "/", component.Name);
            if (EntryNames.ByteCount(next) > LayerPath.MaxPathBytes)
            {
                throw new EntryRejectedException($"resolves, through symlinks, to a path longer than {LayerPath.MaxPathBytes} bytes");
            }

            var host = HostPath(next);
            switch (LibC.GetKind(host))
            {
                case NodeKind.Directory:
                    relative = next;
                    break;
                case NodeKind.Missing when create:
                    LibC.MakeDirectory(host, DirectoryMode);
                    relative = next;
                    break;
                case NodeKind.Missing:
                    return false;
                case NodeKind.Symlink when !followSymlinks:
                    throw new EntryRejectedException($"goes through symlink {UntrustedText.Quote(next)}, and symlinks are not followed here");
                case NodeKind.Symlink:
                    if (++hops > MaxSymlinkHops)
                    {
                        throw new EntryRejectedException($"goes through more than {MaxSymlinkHops} symlinks (a symlink loop?)");
                    }

                    var target = LibC.ReadLink(host);
                    if (target.StartsWith('/'))
                    {
                        relative = "";
                    }

                    PushComponents(target, new SymlinkOrigin(next, target));
                    break;
                case var other:
                    throw new EntryRejectedException($"needs {UntrustedText.Quote(next)} to be a directory, but it is {Describe(other)}");
            }
        }

        return true;
    }

    /// <summary>Queues the components of <paramref name="path"/> so that the first is popped first.</summary>
    private void PushComponents(ReadOnlySpan<char> path, SymlinkOrigin? via)
    {
        var end = path.Length;
        while (end >= 0)
        {
            var start = end == 0 ? -1 : path[..end].LastIndexOf('/');
            var component = path[(start + 1)..end];
            if (!component.IsEmpty)
            {
                _pending.Push(new PendingComponent(component.ToString(), via));
            }

            end = start;
        }
    }

    private static string Describe(NodeKind kind) => kind switch
    {
        NodeKind.RegularFile => "a regular file",
        _ => "a device, FIFO or socket",
    };

    private sealed record SymlinkOrigin(string Link, string Target);

    private readonly record struct PendingComponent(string Name, SymlinkOrigin? Via);
}
