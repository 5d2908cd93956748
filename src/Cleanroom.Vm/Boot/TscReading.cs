namespace Cleanroom.Vm.Boot;

/// <summary>A TSC frequency and where it came from (or, when <see cref="Khz"/> is null, why it is unknown).</summary>
public sealed record TscReading(long? Khz, string Source);
