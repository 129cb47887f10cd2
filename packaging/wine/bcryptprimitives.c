/*
 * A stand-in for Windows' bcryptprimitives.dll, for running the Windows build under Wine 8
 * (Debian 12) in tests only. Rust's std (1.78+) takes its random numbers from
 * ProcessPrng in bcryptprimitives.dll, which Windows 10 and later have and Wine 8 lacks,
 * so the .exe fails to start there (c0000135). This forwards ProcessPrng to
 * RtlGenRandom (advapi32's SystemFunction036), which Wine has.
 * Never shipped: real Windows has the real DLL.
 *
 * x86_64-w64-mingw32-gcc -shared -o bcryptprimitives.dll bcryptprimitives.c -ladvapi32
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
