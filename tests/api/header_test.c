/* Compiled once per public header (GM_HEADER): each must stand alone. */
#include GM_HEADER

int main(void)
{
    return 0;
}
