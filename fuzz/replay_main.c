/* Replays a libFuzzer corpus without libFuzzer: every file under the directories (or the
 * files) given on the command line is passed once to LLVMFuzzerTestOneInput. Used by ctest so
 * the committed corpus and every regression input run in `make test` and `make asan`. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return perror(path), 1;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc(size > 0 ? (size_t)size : 1);
    size_t got = fread(data, 1, (size_t)size, f);
    fclose(f);
    LLVMFuzzerTestOneInput(data, got);
    free(data);
    return 0;
}

static int replay(const char *path, int *count)
{
    struct stat st;
    if (stat(path, &st) != 0) return perror(path), 1;
    if (!S_ISDIR(st.st_mode)) return ++*count, replay_file(path);
    DIR *dir = opendir(path);
    if (!dir) return perror(path), 1;
    int failed = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char child[4096];
        snprintf(child, sizeof child, "%s/%s", path, e->d_name);
        failed |= replay(child, count);
    }
    closedir(dir);
    return failed;
}

int main(int argc, char **argv)
{
    int count = 0, failed = 0;
    for (int i = 1; i < argc; i++) failed |= replay(argv[i], &count);
    printf("replayed %d inputs\n", count);
    return failed || count == 0;
}
