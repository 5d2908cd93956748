namespace Cleanroom.Vm.Doctor;

/// <summary>One line of <c>cleanroom doctor</c>: a stable snake_case name, a status, and a message a user can act on.</summary>
public sealed record DoctorCheck(string Name, CheckStatus Status, string Message);
