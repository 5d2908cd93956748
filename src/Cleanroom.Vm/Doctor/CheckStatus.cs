namespace Cleanroom.Vm.Doctor;

public enum CheckStatus
{
    Pass,
    Warn,
    Fail,
}
