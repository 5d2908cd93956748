namespace Cleanroom.Vm.Assets;

/// <summary>Outcome of checking one boot asset; <see cref="Message"/> is user-facing either way.</summary>
public sealed record AssetCheck(string FileName, string Path, bool Ok, string Message);
