/*
 * wf_cache: the enabled workflows of the database, loaded and prepared
 * once per process and dropped when the workflow counter moves.
 */
#ifndef FLOWCGI_WF_CACHE_H
#define FLOWCGI_WF_CACHE_H

struct wf_cache;

void wf_cache_free(struct wf_cache *c);

#endif
