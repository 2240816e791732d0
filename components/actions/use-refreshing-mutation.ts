"use client";
// A mutation that refreshes what it changed: once it has settled (done, refused or failed),
// the queries under `refreshes` are read again, so the page shows the outcome at once.
import { type QueryKey, type UseMutationOptions, useMutation, useQueryClient } from "@tanstack/react-query";

export function useRefreshingMutation<TData, TError, TVariables, TContext>(
  options: UseMutationOptions<TData, TError, TVariables, TContext>,
  refreshes: QueryKey,
) {
  const queryClient = useQueryClient();
  return useMutation({
    ...options,
    onSettled: () => void queryClient.invalidateQueries({ queryKey: refreshes }),
  });
}
