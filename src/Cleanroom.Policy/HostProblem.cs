namespace Cleanroom.Policy;

/// <summary>Why a host text was rejected; the schema reader turns it into a positioned diagnostic.</summary>
internal sealed record HostProblem(PolicyErrorKind Kind, string Message, string Expected);
