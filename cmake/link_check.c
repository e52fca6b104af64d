/* link_check.c: the main of each layer's link check (CMakeLists.txt, sa_layer): linked with the
 * whole of one layer's library and only the libraries below it, so the link fails when any of its
 * objects calls a layer above. It is built, never run. */
int main(void)
{
    return 0;
}
