/* `include:` at the top of a config file: more servers, upstreams and switchboards from other
 * files, merged into the document before it is checked.
 *
 * `include` is one path or glob pattern, or a list of them (expanded from the environment first,
 * config_env.h), relative to the folder of the file
 * that includes (an absolute one as it is). A pattern (with * ? or [) takes the files it
 * matches in glob(3)'s sorted order, and may match nothing; a plain path must exist. Each file
 * is parsed (YAML, or JSON when its name ends in .json) and must be a mapping of at most
 * `servers:`, `upstreams:` and `switchboards:` lists; their entries are appended, file after file
 * in the order written, to the including document's lists of the same name (made when it has none).
 * Includes do not nest: an included file's `include` is an error. Every entry brought in remembers
 * its file (node.h: `file`), so each error in it is reported as that file's line:column, with the
 * path of the merged document ("servers[3].listen": the index in the merged list, as GET /config
 * shows it); the loader then expands the environment in the merged document (config_env.h),
 * each value's errors naming its own file. The `include` key is then removed: the merged document
 * is the running config, and the admin API, which takes whole documents, has no include.
 *
 * Called by the loader (config.c) on the control thread at every load and reload, so a reload
 * reads every included file again. */
#ifndef HP_CONFIG_INCLUDE_H
#define HP_CONFIG_INCLUDE_H

#include "config/config_errors.h"
#include "config/node.h"

/* Reads the files `root`'s `include` names into `root` (see above) and removes the key. `file`
 * is the including file's path (its folder is where relative patterns start). Every problem is
 * added to `errs`; the files that could be read are merged all the same. */
void hp__config_read_includes(hp__cfg_node *root, const char *file, hp__config_errors *errs);

#endif
