namespace Cleanroom.Vm.Assets;

/// <summary>What assets.json records for one file. Either value may be absent.</summary>
/// <param name="Sha256">Lower-case hex digest, without a "sha256:" prefix.</param>
/// <param name="Size">Size in bytes.</param>
public sealed record ExpectedAsset(string? Sha256, long? Size);
