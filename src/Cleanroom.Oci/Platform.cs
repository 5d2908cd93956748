namespace Cleanroom.Oci;

/// <summary>An OCI platform, <c>os/architecture[/variant]</c>, e.g. <c>linux/amd64</c> or <c>linux/arm64/v8</c>.</summary>
public sealed record Platform(string Os, string Architecture, string? Variant = null)
{
    /// <summary>The platform of this host's guests (the machine the daemon runs on).</summary>
    public static Platform Host { get; } = new("linux", System.Runtime.InteropServices.RuntimeInformation.OSArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
        _ => "amd64",
    }, System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? "v8" : null);

    /// <inheritdoc/>
    public override string ToString() => Variant is null ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";

    /// <summary>Parses <c>os/arch[/variant]</c>; throws <see cref="FormatException"/>.</summary>
    public static Platform Parse(string text)
    {
        var parts = text.Trim().ToLowerInvariant().Split('/');
        if (parts.Length is < 2 or > 3 || parts.Any(p => p.Length == 0))
        {
            throw new FormatException($"'{text}' is not a platform: expected os/architecture[/variant], e.g. linux/amd64 or linux/arm64/v8");
        }

        return new Platform(parts[0], parts[1], parts.Length == 3 ? parts[2] : null);
    }

    /// <summary>
    /// True when an index entry for <paramref name="candidate"/> can run here. arm64 treats a missing variant as v8
    /// (what registries usually publish), so <c>linux/arm64</c> and <c>linux/arm64/v8</c> match each other.
    /// </summary>
    public bool Matches(Platform candidate)
    {
        if (!string.Equals(Os, candidate.Os, StringComparison.OrdinalIgnoreCase)
            || !string.Equals(Architecture, candidate.Architecture, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var wanted = Variant ?? DefaultVariant(Architecture);
        var offered = candidate.Variant ?? DefaultVariant(candidate.Architecture);
        return wanted is null || offered is null || string.Equals(wanted, offered, StringComparison.OrdinalIgnoreCase);
    }

    private static string? DefaultVariant(string architecture) => architecture == "arm64" ? "v8" : null;
}
