using Cleanroom.Oci;

namespace Cleanroom.Images.Registry;

/// <summary>A manifest or index exactly as a registry served it (see <see cref="RegistryClient.GetManifestBytesAsync"/>).</summary>
/// <param name="Bytes">The body, as served.</param>
/// <param name="MediaType">The served Content-Type without parameters, or null when the registry sent none. Untrusted.</param>
/// <param name="Digest">The SHA-256 of <paramref name="Bytes"/>.</param>
public sealed record RegistryManifestBytes(byte[] Bytes, string? MediaType, Digest Digest);
