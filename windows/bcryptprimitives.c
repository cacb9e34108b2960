/*
 * A stand-in for Windows' bcryptprimitives.dll, for running recpipe's
 * Windows test executables under Wine 8 (Debian 12), which lacks it.
 *
 * Rust's standard library imports ProcessPrng from bcryptprimitives.dll
 * for random numbers (HashMap seeds, getrandom). This DLL exports
 * ProcessPrng and forwards to SystemFunction036 (RtlGenRandom) in
 * advapi32, which Wine has. It is built in CI (scripts/test-windows.sh)
 * and placed beside the test executables; it is never shipped.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
